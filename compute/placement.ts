import { hostname } from 'node:os';
import type { Logger } from '../common/logger.ts';
import { updateRecord } from '../client/record-update.ts';
import type { BuildRequest } from './build-request.ts';
import type { RecordHostStateStore } from './host-store.ts';
import { finishEvent, startEvent } from './instance-actions.ts';
import { T } from './records.ts';
import { applyClaim, type Claim, claimOnFirstFit, releaseOn, swapHostState } from './scheduler/claims.ts';
import { ClaimFailed, NoValidHost } from './scheduler/errors.ts';
import { defaultSchedulerConfig, type Selection, selectDestinations } from './scheduler/select-destinations.ts';
import { type ServerGroupRecord, schedulerGroup, settleAffinityHost } from './server-group-record.ts';
import type { ServerRecord } from './server-record.ts';
import type { ComputeStore } from './store.ts';
import { enqueue } from './work-queue.ts';

/**
 * The conductor's part of a boot (nova/conductor/manager.py schedule_and_build_instances):
 * pick hosts with the filter scheduler, claim on each (compare-and-swap on the host's record,
 * moving to the alternates when a claim loses), record the host on the server, queue the build
 * for the host's agent, and drop the build request. No host: the servers go to ERROR with
 * Nova's fault (code 500, "No valid host was found. ...").
 */
export async function placeBuilds(store: ComputeStore, hosts: RecordHostStateStore, all: readonly BuildRequest[], logger: Logger): Promise<void> {
  // A server that already has its host was placed by another pass (a resumed build racing the
  // API process still placing it, or one that stopped before queuing): it goes to that host only.
  const requests: BuildRequest[] = [];
  for (const r of all) await startEvent(store, r.server, r.requestId, SCHEDULE_EVENT, CONDUCTOR_HOST);
  for (const r of all) {
    const host = (await store.get<ServerRecord>(T.servers, r.server))?.host ?? null;
    if (host === null) requests.push(r);
    else await requeueOnHost(store, hosts, r, host, logger);
  }
  if (requests.length === 0) return;
  const first = requests[0] as BuildRequest;
  const now = store.clock.now();
  // The group as it is now, this boot's members included (they joined before placement).
  const groupRecord = first.group === undefined ? undefined : await store.get<ServerGroupRecord>(T.serverGroups, first.group);
  const group = groupRecord === undefined ? undefined : schedulerGroup(groupRecord);
  const forced = first.forcedHost;
  // Each host's zone as the scheduler last read it, for the servers placed there (zones do not move with claims).
  const zones = new Map<string, string>();
  const select = async (instanceUuids: readonly string[]): Promise<Selection[]> => {
    const all = await hosts.all();
    for (const h of all) zones.set(h.host, h.availabilityZone);
    return selectDestinations(all.filter((h) => first.requestedHost === undefined || h.host === first.requestedHost), {
      instanceUuids,
      resources: first.claim.resources,
      imageProperties: first.imageProperties,
      ...(first.availabilityZone !== undefined ? { availabilityZone: first.availabilityZone } : {}),
      ...(group === undefined ? {} : { group }),
    }, defaultSchedulerConfig(Math.random), now);
  };
  let selections: Selection[];
  try {
    // A forced host (an admin's `zone:host`) skips the filters: only the claim decides, as Nova's force_hosts.
    selections = forced !== undefined ? requests.map((r) => ({ instanceUuid: r.server, host: forced, alternates: [] })) : await select(requests.map((r) => r.server));
  } catch (err) {
    if (!(err instanceof NoValidHost)) throw err;
    for (const r of requests) await fail(store, r, err.message);
    return;
  }
  for (const [i, r] of requests.entries()) {
    const s = selections[i];
    if (!s) continue;
    let host: string;
    try {
      host = await claimSpread(hosts, s, group === undefined ? r.claim : { ...r.claim, group }, async () => (forced !== undefined ? undefined : (await select([r.server]).catch(() => []))[0]));
    } catch (err) {
      if (!(err instanceof NoValidHost)) throw err;
      await fail(store, r, err.message);
      continue;
    }
    if (group?.policy === 'affinity') {
      // Two first members placed at once may have chosen two hosts: the group's record decides.
      const groupHost = await settleAffinityHost(store, group.uuid, host);
      if (groupHost !== host) {
        await releaseOn(hosts, host, r.claim);
        try {
          host = (await claimOnFirstFit(hosts, [groupHost], { ...r.claim, group })).host;
        } catch (err) {
          if (!(err instanceof NoValidHost)) throw err;
          await fail(store, r, err.message);
          continue;
        }
      }
    }
    let placedElsewhere: string | null = null;
    // Nova's conductor gives the instance its host's zone, asked for or not.
    const zone = zones.get(host) ?? (await hosts.read(host)).state.availabilityZone;
    const placed = await updateRecord<ServerRecord>(store.records, T.servers, r.server, (cur) => {
      placedElsewhere = cur.value.host !== null && cur.value.host !== host ? cur.value.host : null;
      return cur.value.host === host || placedElsewhere !== null ? undefined : { ...cur.value, host, availability_zone: zone ?? cur.value.availability_zone ?? 'nova', updated_at: store.isoSeconds() };
    });
    if (placedElsewhere !== null) {
      // Another pass placed it first (compare-and-swap on the server decides): ours is given back.
      await releaseOn(hosts, host, r.claim);
      logger.info('server placed by another pass', { server: r.server, host: placedElsewhere });
      continue;
    }
    if (!placed) {
      // Deleted meanwhile: give the claim back (the host's agent would, had it been queued).
      await releaseOn(hosts, host, r.claim);
      await store.records.delete(T.buildRequests, r.server);
      continue;
    }
    await enqueue(store, host, r.createdMs, { server: r.server, task: 'build', token: r.token, requestId: r.requestId });
    await store.records.delete(T.buildRequests, r.server);
    await finishEvent(store, r.server, r.requestId, SCHEDULE_EVENT);
    logger.info('server placed', { server: r.server, host });
  }
}

/** The step a boot's action records here, as Nova's conductor names it, and the host it names. */
const SCHEDULE_EVENT = 'conductor_schedule_and_build_instances';
const CONDUCTOR_HOST = hostname();

/** How many times a boot weighs the hosts again after another boot's claim changed its pick. */
const SPREAD_ROUNDS = 8;

/**
 * A claim on the best host as the hosts are now. When another boot's claim changed the picked
 * host first (its compare-and-swap lost), the hosts are weighed again, as Nova's scheduler
 * consumes each placed boot from its host states before weighing the next, so concurrent boots
 * spread instead of all claiming the one host they all read as best. A host that no longer fits
 * (or after SPREAD_ROUNDS) falls back to the selection's alternates.
 */
async function claimSpread(hosts: RecordHostStateStore, first: Selection, claim: Claim, reselect: () => Promise<Selection | undefined>): Promise<string> {
  let pick = first;
  for (let round = 0; round < SPREAD_ROUNDS; round++) {
    try {
      if (await swapHostState(hosts, pick.host, (state) => applyClaim(state, claim))) return pick.host;
    } catch (err) {
      if (err instanceof ClaimFailed) break;
      throw err;
    }
    const again = await reselect();
    if (!again) break;
    pick = again;
  }
  return (await claimOnFirstFit(hosts, [pick.host, ...pick.alternates], claim)).host;
}

/** The build queued again for the host the server already has: its claim there (kept if made), the queue key, the request dropped. */
async function requeueOnHost(store: ComputeStore, hosts: RecordHostStateStore, r: BuildRequest, host: string, logger: Logger): Promise<void> {
  try {
    await claimOnFirstFit(hosts, [host], r.claim);
  } catch (err) {
    if (!(err instanceof NoValidHost)) throw err;
    await fail(store, r, err.message);
    return;
  }
  await enqueue(store, host, r.createdMs, { server: r.server, task: 'build', token: r.token, requestId: r.requestId });
  await store.records.delete(T.buildRequests, r.server);
  await finishEvent(store, r.server, r.requestId, SCHEDULE_EVENT);
  logger.info('server placed', { server: r.server, host });
}

/** Nova's "No valid host" fault, unless another pass placed the server meanwhile (its host set). */
async function fail(store: ComputeStore, r: BuildRequest, message: string): Promise<void> {
  await updateRecord<ServerRecord>(store.records, T.servers, r.server, (cur) => cur.value.host !== null ? undefined : ({
    ...cur.value,
    vm_state: 'error',
    task_state: null,
    updated_at: store.isoSeconds(),
    fault: { code: 500, message, created: store.isoSeconds() },
  }));
  await store.records.delete(T.buildRequests, r.server);
  await finishEvent(store, r.server, r.requestId, SCHEDULE_EVENT, { message, traceback: message });
}
