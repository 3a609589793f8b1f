import { badRequest } from './errors.ts';
import { pyRepr } from './python-repr.ts';

/** Glance's `[image_format]` defaults. */
export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'] as const;
export const VISIBILITIES = ['community', 'public', 'private', 'shared'] as const;

type JsonType = 'null' | 'string' | 'integer' | 'boolean' | 'array' | 'object';

interface PropertySchema {
  readonly type: JsonType | readonly JsonType[];
  readonly readOnly?: boolean;
  readonly enum?: readonly (string | null)[];
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly items?: PropertySchema;
  readonly description: string;
}

/** Glance's `get_base_properties` (glance/api/v2/images.py), as `/v2/schemas/image` shows it. */
export const IMAGE_PROPERTIES: Readonly<Record<string, PropertySchema>> = {
  id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
  name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
  status: { type: 'string', readOnly: true, description: 'Status of the image', enum: STATUSES },
  visibility: { type: 'string', description: 'Scope of image accessibility', enum: VISIBILITIES },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  checksum: { type: ['null', 'string'], readOnly: true, description: 'md5 hash of image contents.', maxLength: 32 },
  os_hash_algo: { type: ['null', 'string'], readOnly: true, description: 'Algorithm to calculate the os_hash_value', maxLength: 64 },
  os_hash_value: { type: ['null', 'string'], readOnly: true, description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', maxLength: 128 },
  owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
  size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
  virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
  container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...CONTAINER_FORMATS] },
  disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
  created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
  updated_at: { type: 'string', readOnly: true, description: 'Date and time of the last image modification' },
  tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255, description: 'A tag' } },
  direct_url: { type: 'string', readOnly: true, description: 'URL to access the image file kept in external store' },
  min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
  self: { type: 'string', readOnly: true, description: 'An image self url' },
  file: { type: 'string', readOnly: true, description: 'An image file url' },
  stores: { type: 'string', readOnly: true, description: 'Store in which image data resides.' },
  schema: { type: 'string', readOnly: true, description: 'An image schema url' },
};

const LINKS = [
  { rel: 'self', href: '{self}' },
  { rel: 'enclosure', href: '{file}' },
  { rel: 'describedby', href: '{schema}' },
];

/** `GET /v2/schemas/image`: a PermissiveSchema (custom properties are strings). */
export function imageSchema(): Record<string, unknown> {
  return { name: 'image', properties: IMAGE_PROPERTIES, additionalProperties: { type: 'string' }, links: LINKS };
}

/** `GET /v2/schemas/images`: Glance's CollectionSchema around the image schema. */
export function imagesSchema(): Record<string, unknown> {
  return {
    name: 'images',
    properties: { images: { type: 'array', items: imageSchema() }, schema: { type: 'string' }, first: { type: 'string' }, next: { type: 'string' } },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

const MEMBER_PROPERTIES = {
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  image_id: { type: 'string', description: 'An identifier for the image', pattern: IMAGE_PROPERTIES['id']?.pattern },
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  status: { type: 'string', description: 'The status of this image member', enum: ['pending', 'accepted', 'rejected'] },
  schema: { type: 'string', readOnly: true },
};

export function memberSchema(): Record<string, unknown> {
  return { name: 'member', properties: MEMBER_PROPERTIES };
}

export function membersSchema(): Record<string, unknown> {
  return { name: 'members', properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } }, links: [{ rel: 'describedby', href: '{schema}' }] };
}

/**
 * Validates `obj` against the image schema as Glance does with jsonschema, raising its first
 * error as Glance words it: `Provided object does not match schema 'image': <reason>`.
 * @throws {GlanceError} 400
 */
export function validateImage(obj: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(obj)) {
    const schema = IMAGE_PROPERTIES[key];
    const reason = schema ? propertyProblem(value, schema) : typeof value === 'string' ? undefined : `${pyRepr(value)} is not of type 'string'`;
    if (reason !== undefined) throw badRequest(`Provided object does not match schema 'image': ${reason}`);
  }
}

function propertyProblem(value: unknown, schema: PropertySchema): string | undefined {
  const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
  if (!types.some((t) => isType(value, t))) return `${pyRepr(value)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`;
  if (schema.enum && !schema.enum.includes(value as string | null)) return `${pyRepr(value)} is not one of ${pyRepr(schema.enum)}`;
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) return `${pyRepr(value)} is too long`;
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) return `${pyRepr(value)} does not match ${pyRepr(schema.pattern)}`;
  }
  if (Array.isArray(value) && schema.items) {
    for (const item of value) {
      const problem = propertyProblem(item, schema.items);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function isType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}
