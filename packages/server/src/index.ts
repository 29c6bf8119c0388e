export { type CompletionRequest, readChatRequest, readTextRequest } from './completion-request.js';
export { createServer, type ServerOptions } from './create-server.js';
export { DeadlineExceeded, type ErrorResponse, errorResponse } from './error-response.js';
export { InvalidFieldError, OpenAIRequestError, UnknownModelError, UnservableModelError } from './errors.js';
export { type LoadServedModelOptions, loadServedModel } from './load-served-model.js';
export { PresenceFrequencyPenaltyProcessor } from './openai-penalties.js';
export { type OpenAIRoutesOptions, registerOpenAIRoutes } from './openai-routes.js';
export {
  type Completion,
  type CompletionChoice,
  type CompletionListener,
  ServedModel,
  type ServedModelOptions,
  type TokenLogprobText,
} from './served-model.js';
export { ServerMetrics } from './server-metrics.js';
