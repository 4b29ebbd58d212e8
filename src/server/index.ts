/** The HTTP jobs API server. */
export { startServer, arcgisError, type RunningServer } from './app.js';
export { TokenService, loadOrCreateSecret, type TokenClaims, type TokenCheck } from './auth.js';
export { loadServerConfig, resolveServerConfig, readConfigFile, configFromEnv, ENVIRONMENT, type ServerConfig, type ServerUser, type ConfigInput } from './config.js';
export { resolveInput, realRoots, InputRejected } from './inputs.js';
