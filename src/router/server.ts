/**
 * `startRouter`: the router behind an HTTP listener (127.0.0.1 by default). Returns a handle
 * with its URL, the `Router` (for status and tests) and `close()`, which stops the background
 * loops, ends in-flight requests and closes the port.
 */
import { errorResponse } from "../openai/errors.ts";
import { type RouterConfig } from "./config.ts";
import { Router } from "./router.ts";

export interface RunningRouter {
  readonly router: Router;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** `reusePort`: share the port with other processes (serve --workers; Linux SO_REUSEPORT). */
export async function startRouter(
  config: RouterConfig,
  options: { reusePort?: boolean } = {},
): Promise<RunningRouter> {
  const router = await Router.create(config);
  await router.start();
  let server: Deno.HttpServer<Deno.NetAddr>;
  await new Promise<void>((resolve, reject) => {
    try {
      server = Deno.serve({
        hostname: config.host,
        port: config.port,
        reusePort: options.reusePort ?? false,
        onListen: () => resolve(),
        onError: (e) => {
          console.error(`pdroute serve: request failed: ${(e as Error).stack}`);
          return errorResponse(500, `router error: ${(e as Error).message}`, "server_error");
        },
      }, (req, info) => router.handle(req, info.completed));
    } catch (e) {
      router.close();
      reject(new Error(`cannot listen on ${config.host}:${config.port}: ${(e as Error).message}`));
    }
  });
  const port = server!.addr.port;
  return {
    router,
    url: `http://${config.host}:${port}`,
    port,
    async close() {
      await router.close();
      await server.shutdown();
    },
  };
}
