import type { Command } from 'commander';
import { startServer } from '../server/app.js';
import { loadServerConfig, type ConfigInput } from '../server/config.js';
import { redactRedisUrl } from '../jobs/queue/redis-options.js';

interface ServeCliOptions {
  port?: string;
  host?: string;
  data?: string;
  inputRoot: string[];
  user: string[];
  root?: string;
  baseUrl?: string;
  concurrency?: string;
  maxQueuedJobs?: string;
  trustProxy?: string[];
  config?: string;
  publicOutputs?: boolean;
  hwaccel?: string;
  tokenMinutes?: string;
  log?: boolean;
  corsOrigin: string[];
  redis?: string;
  worker?: boolean;
  redisPrefix?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the jobs API (generateToken, addLayer, jobs) and the published outputs over HTTP')
    .option('--port <n>', 'TCP port (default 8080; 0 picks a free one)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'data directory: job store, services, temporary files')
    .option('--input-root <dir>', 'directory that inputs must lie in (repeatable)', collect, [])
    .option('--user <name:password>', 'a user who may get tokens (repeatable; prefer FMV_INGEST_USERS or a config file)', collect, [])
    .option('--root <path>', 'REST root path (default /arcgis/rest)')
    .option('--base-url <url>', 'public origin for serviceUrl (default http://<host>:<port>)')
    .option('--concurrency <n>', 'ingests that run at once (default: one per four cores)')
    .option('--max-queued-jobs <n>', 'jobs that may wait for a slot before addLayer is refused (default 1000)')
    .option('--hwaccel <path>', 'hardware path of ingests: auto, cpu, cuda, vaapi (default auto)')
    .option('--token-minutes <n>', 'token lifetime when a request names none (default 60)')
    .option('--public-outputs', 'serve published outputs without a token')
    .option('--log', 'log requests to stderr')
    .option('--cors-origin <origin>', "browser origin allowed to call the API and fetch outputs, or '*' (repeatable)", collect, [])
    .option('--trust-proxy <address>', 'reverse proxy (address or CIDR) whose X-Forwarded-For is believed (repeatable)', collect, [])
    .option('--redis <url>', 'queue jobs on Redis (redis://host:6379/0) shared with other servers and workers (also FMV_INGEST_REDIS)')
    .option('--worker', 'with --redis: run ingests in this server too (default: accept and serve only)')
    .option('--redis-prefix <name>', "with --redis: prefix of the Redis keys, the same on every node and worker of a site (default 'fmv'; also FMV_INGEST_REDIS_PREFIX)")
    .option('--config <file>', 'JSON config file (also FMV_INGEST_CONFIG)')
    .action(async (opts: ServeCliOptions) => {
      const flags: ConfigInput = {
        port: opts.port,
        host: opts.host,
        dataDir: opts.data,
        inputRoots: opts.inputRoot,
        users: opts.user,
        root: opts.root,
        baseUrl: opts.baseUrl,
        concurrency: opts.concurrency,
        maxQueuedJobs: opts.maxQueuedJobs,
        hwaccel: opts.hwaccel,
        tokenMinutes: opts.tokenMinutes,
        publicOutputs: opts.publicOutputs,
        log: opts.log,
        corsOrigins: opts.corsOrigin,
        trustProxy: opts.trustProxy,
        redis: opts.redis,
        worker: opts.worker,
        redisPrefix: opts.redisPrefix,
      };
      const config = loadServerConfig(flags, opts.config !== undefined ? { configFile: opts.config } : {});
      const server = await startServer(config);
      const queue = config.redis ? `, jobs on ${redactRedisUrl(config.redis)} (prefix ${config.redisPrefix})${config.worker ? ', running ingests here too' : ''}` : '';
      process.stderr.write(`fmv-ingest: listening on ${server.restUrl} (data ${config.dataDir}${queue})\n`);
      let stopping = false;
      const stop = (): void => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write('fmv-ingest: stopping (running ingests are cancelled)\n');
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
