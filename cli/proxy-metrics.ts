import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const ASK = 'swiftlet:metrics?';
const ANSWER = 'swiftlet:metrics';

/**
 * A proxy with several workers on one port: a scrape of `/metrics` reaches one of them, and
 * must see them all. The worker asks its supervisor, which gathers every worker's registry
 * over the cluster channel (prom-client's `AggregatorRegistry`: counters and histograms
 * summed) and answers with the text.
 */
export function workerMetricsText(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one makes this worker answer the supervisor's requests for its metrics.
  new AggregatorRegistry();
  let next = 0;
  const waiting = new Map<number, (text: string) => void>();
  process.on('message', (message: { type?: string; id?: number; text?: string }) => {
    if (message?.type !== ANSWER || message.id === undefined) return;
    waiting.get(message.id)?.(message.text ?? '');
    waiting.delete(message.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the proxy supervisor did not answer for the metrics'));
      }, 5000);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ type: ASK, id });
    });
}

/** The supervisor's side: answers each worker's request with every worker's metrics summed. */
export function serveWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text }),
      (err: Error) => worker.send({ type: ANSWER, id: message.id, text: `# metrics unavailable: ${err.message}\n` }),
    );
  });
}
