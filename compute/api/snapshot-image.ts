import type { GlanceImage, ImageApi } from '../image-api.ts';

/**
 * A snapshot's image record, shared with `shareWith` when given (Nova's glance layer adds the
 * server's project as a member of an image another project made of its server); an image whose
 * sharing failed is removed.
 */
export async function createSnapshotImage(images: ImageApi, token: string, fields: Readonly<Record<string, unknown>>, shareWith: string | undefined): Promise<GlanceImage> {
  const image = await images.create(token, fields);
  if (shareWith === undefined) return image;
  try {
    await images.addMember(token, image.id, shareWith);
  } catch (err) {
    await images.delete(token, image.id).catch(() => undefined);
    throw err;
  }
  return image;
}
