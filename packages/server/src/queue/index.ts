// The BullMQ side of the server (its own entry point, so that an app serving HTTP never loads BullMQ).
export { type GenerationJobData, type GenerationJobResult, jobId } from './generation-job.js';
export {
  type GenerationJobOutcome,
  GenerationProducer,
  type GenerationProducerOptions,
} from './generation-producer.js';
export { type GenerationWorkerOptions, startGenerationWorker } from './generation-worker.js';
export { redisConnection } from './redis-connection.js';
