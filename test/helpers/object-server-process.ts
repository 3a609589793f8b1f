/**
 * A lone object server in its own process, for tests that kill it:
 *   node test/helpers/object-server-process.ts <devices dir>
 * Cleans leftover temp files as a starting node does, then prints `listening <port>`.
 */
import { systemClock } from '../../common/clock.ts';
import { defaultConfig } from '../../common/config.ts';
import { HashPath } from '../../common/hash-path.ts';
import { UndiciBackendClient } from '../../common/http/backend-client.ts';
import { listen } from '../../common/http/server.ts';
import { createLogger } from '../../common/logger.ts';
import { storageSchema } from '../../common/storage-config.ts';
import { FsAsyncPendingStore } from '../../object/async-pending.ts';
import { objectServerSchema } from '../../object/config.ts';
import { FsDiskFileManager } from '../../object/diskfile/fs.ts';
import { DiskFileRouter } from '../../object/diskfile/router.ts';
import { ObjectServer } from '../../object/server.ts';

const devices = process.argv[2] as string;
const logger = createLogger({ level: (process.env['LOG_LEVEL'] as 'info' | undefined) ?? 'warn' });
const config = defaultConfig({ storage: storageSchema, objectServer: objectServerSchema });
const diskFiles = new FsDiskFileManager({ devices, mountCheck: false, hashPath: new HashPath('', 'crash-test'), clock: systemClock, logger });
const removed = await diskFiles.cleanupTempFiles();
const server = new ObjectServer(
  { storage: { ...config.storage, devices }, objectServer: config.objectServer },
  { clock: systemClock, logger, backend: new UndiciBackendClient(), diskFiles: DiskFileRouter.single(diskFiles), pendings: new FsAsyncPendingStore({ devices, mountCheck: false }), hashPath: new HashPath('', 'crash-test') },
);
const http = await listen(server.handle, { host: '127.0.0.1', port: 0, logger });
process.stdout.write(`listening ${http.port} cleaned ${removed}\n`);
process.once('SIGTERM', () => process.exit(0));
