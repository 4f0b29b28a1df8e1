/**
 * `pdroute serve --workers N` and `--sync` as a user meets them: what the supervisor passes to
 * each worker, and bad input (no sync, port 0, a sync URL that is not nats://) refused with exit
 * code 2 and one line naming the problem. The workers themselves run in bench/router_overhead.sh.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { main } from "../../src/cli/main.ts";
import { workerArgs } from "../../src/cli/commands/serve_workers.ts";
import { captured } from "../_capture.ts";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { result, out, err } = await captured(() => main(args));
  return { code: result, out, err };
}

Deno.test("serve --workers: each worker gets the same flags, --reuse-port and its own replica id", () => {
  deepEqual(
    workerArgs(
      ["serve", "--workers", "2", "--both", "http://a", "--replica-id", "x", "--workers=3"],
      "x-w1",
    ),
    ["serve", "--both", "http://a", "--reuse-port", "--replica-id", "x-w1"],
  );
});

Deno.test("serve --workers and --sync: bad input exits 2 with one line naming it", async () => {
  const both = ["serve", "--both", "http://127.0.0.1:1"];
  const cases: [string[], RegExp][] = [
    [[...both, "--workers", "2"], /--workers 2 needs --sync nats:\/\/HOST:PORT/],
    [
      [...both, "--workers", "2", "--sync", "nats://127.0.0.1:4222", "--port", "0"],
      /--workers 2 needs a fixed --port: current value is 0/,
    ],
    [[...both, "--sync", "http://127.0.0.1:4222"], /sync\.url.*nats:\/\/host:port/i],
    [[...both, "--workers", "0"], /workers/],
  ];
  for (const [args, want] of cases) {
    const r = await cli(...args);
    equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    match(r.err, want);
  }
});
