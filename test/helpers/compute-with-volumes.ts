import * as assert from 'uvu/assert';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { CinderVolumeApi } from '../../compute/volume-api.ts';
import { FileVolumeDriver } from '../../compute/volume/driver/file.ts';
import { makeAgent, startCompute } from './compute.ts';
import { makeTempDir } from './tmpdir.ts';
import { startVolumeApi, type TestVolumeApi } from './volume-api.ts';

/**
 * The compute API and one compute agent (`node1`, memory hypervisor) over the real volume API
 * in process (its volume files in a temp dir; Glance the compute tests' fake): the rig of the
 * tests that attach and boot from volumes. `m1.tiny` (id 1) and a `private` network exist;
 * `admin` and `demo` are tokens; `volume` makes one of demo's and waits for the volume
 * service's work to settle. `resources`: node1's (4 vCPUs, 8 GiB, 100 GiB of disk otherwise);
 * `volumeZone`: the volume service's zone (nova otherwise).
 */
export async function startComputeWithVolumes(options: { crossAzAttach?: boolean; zone?: string; resources?: { vcpus: number; memoryMiB: number; diskGiB: number }; volumeZone?: string } = {}) {
  const dir = await makeTempDir('compute-volumes-');
  const http = new UndiciBackendClient();
  let v: TestVolumeApi | undefined;
  const driver = new FileVolumeDriver({ dir: dir.path });
  const c = await startCompute({
    ...(options.crossAzAttach !== undefined ? { crossAzAttach: options.crossAzAttach } : {}),
    volumes: async (identity, images) => {
      v = await startVolumeApi({ keys: identity.keyRepository, driver, images, ...(options.volumeZone !== undefined ? { availabilityZone: options.volumeZone } : {}) });
      return new CinderVolumeApi(`http://127.0.0.1:${v.port}`, http);
    },
  });
  const volumeApi = v as unknown as TestVolumeApi;
  const admin = await c.identity.token();
  const demo = await c.identity.token({ user: 'demo' });
  await c.request('POST', '/v2.1/flavors', { token: admin, body: { flavor: { name: 'm1.tiny', id: '1', ram: 512, vcpus: 1, disk: 1 } } });
  const netId = c.networks.addNetwork('private').id;
  const a = await makeAgent(c, 'node1', options.resources, options.zone);
  await a.agent.register();
  const others: Awaited<ReturnType<typeof makeAgent>>[] = [];
  return {
    c,
    v: volumeApi,
    driver,
    a,
    admin,
    demo,
    netId,
    async volume(body: Record<string, unknown> = {}): Promise<string> {
      const res = await volumeApi.request('POST', '/v3/volumes', demo, { volume: { size: 1, ...body } });
      assert.is(res.status, 202, JSON.stringify(res.json));
      await volumeApi.worker.idle();
      return res.json.volume.id as string;
    },
    showVolume: (id: string) => volumeApi.request('GET', `/v3/volumes/${id}`, demo),
    /** Another compute host (in `zone`, nova otherwise). */
    async addHost(host: string, zone?: string) {
      const other = await makeAgent(c, host, undefined, zone);
      await other.agent.register();
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await other.remove();
      await a.remove();
      await c.close();
      await volumeApi.close();
      await http.close();
      await dir.remove();
    },
  };
}
