/**
 * Router memory soak (not a timed test; see bench/ROUTER_RESULTS.md, "Memory"). Starts two
 * emulated engines (`pdroute emulate --count 2 --speed 50`) and `pdroute serve` over them, each
 * its own process, drives `--requests` completions through the router (closed loop,
 * `--concurrency` clients; half streamed, half not; a distinct prompt each, so the prefix
 * index keeps taking new blocks), and records the router process's RSS (VmRSS from
 * /proc/<pid>/status) every `--every` requests, then after `--idle` seconds of no traffic.
 * Prints a Markdown table and writes the samples as JSON (`--out`).
 *
 *   deno run -A bench/router_soak.ts --requests 50000 --concurrency 32
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "50000" },
    concurrency: { type: "string", default: "32" },
    every: { type: "string", default: "5000" },
    idle: { type: "string", default: "30" },
    "prompt-chars": { type: "string", default: "2000" },
    "max-tokens": { type: "string", default: "16" },
    out: { type: "string", default: "artifacts/bench/router_soak.json" },
    /** Extra `pdroute serve` flags, space-separated. */
    "serve-args": { type: "string", default: "" },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const every = Number(values.every);
const promptChars = Number(values["prompt-chars"]);
const maxTokens = Number(values["max-tokens"]);
const main = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Starts `pdroute <args>` and resolves with the process and the URLs it printed. */
async function start(args: string[], urls: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-no-legacy-abort", main, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let found: string[] = [];
  while (found.length < urls) {
    const r = await reader.read();
    if (r.done) throw new Error(`pdroute ${args[0]} exited before listening: ${out}`);
    out += r.value;
    found = [...out.matchAll(/(http:\/\/[\d.]+:\d+)( serving|\s\()/g)].map((m) => m[1]);
  }
  // Keep draining its stdout so the process never blocks on a full pipe.
  void (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return { child, urls: found };
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)![1]);
  return Math.round(kb / 102.4) / 10;
}

const engines = await start(["emulate", "--port", "0", "--count", "2", "--speed", "50"], 2);
const serveArgs = values["serve-args"].split(" ").filter((a) => a !== "");
const router = await start([
  "serve",
  "--port",
  "0",
  "--both",
  engines.urls.join(","),
  "--disaggregation",
  "never",
  "--engine-speed",
  "50",
  ...serveArgs,
], 1);
const url = router.urls[0];
const pid = router.child.pid;
interface Sample {
  requests: number;
  seconds: number;
  rssMb: number;
  /** The router's JS heap in use and reserved (its /router/status). */
  heapUsedMb: number;
  heapTotalMb: number;
  /** Open file descriptors of the router (sockets to clients and engines, mostly). */
  fds: number;
  errors: number;
}
const samples: Sample[] = [];
const t0 = performance.now();
let sent = 0, done = 0, errors = 0;
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
async function sample(n: number): Promise<void> {
  const status = await (await fetch(`${url}/router/status`)).json();
  samples.push({
    requests: n,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
    rssMb: rssMb(pid),
    heapUsedMb: mb(status.memory.heapUsed),
    heapTotalMb: mb(status.memory.heapTotal),
    fds: [...Deno.readDirSync(`/proc/${pid}/fd`)].length,
    errors,
  });
}
await sample(0);

async function one(i: number): Promise<void> {
  const stream = i % 2 === 0;
  const prompt = `soak ${i} `.repeat(promptChars).slice(0, promptChars);
  try {
    const res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "emulated", prompt, max_tokens: maxTokens, stream }),
    });
    await res.arrayBuffer();
    if (!res.ok) errors++;
  } catch {
    errors++;
  }
}

async function worker(): Promise<void> {
  while (sent < total) {
    const i = sent++;
    await one(i);
    done++;
    if (done % every === 0) await sample(done);
  }
}

try {
  await Promise.all(Array.from({ length: concurrency }, worker));
  const idle = Number(values.idle);
  await new Promise((r) => setTimeout(r, idle * 1000));
  await sample(done);
  samples[samples.length - 1] = { ...samples[samples.length - 1], requests: -idle };
} finally {
  router.child.kill("SIGTERM");
  engines.child.kill("SIGTERM");
  await router.child.status;
  await engines.child.status;
}

console.log(`| requests | s | router RSS (MB) | JS heap used / reserved (MB) | fds | errors |`);
console.log(`| -------: | --: | --------------: | ---------------------------: | --: | -----: |`);
for (const s of samples) {
  const label = s.requests < 0 ? `+${-s.requests} s idle` : String(s.requests);
  console.log(
    `| ${label} | ${s.seconds} | ${s.rssMb} | ${s.heapUsedMb} / ${s.heapTotalMb} | ${s.fds} | ${s.errors} |`,
  );
}
await Deno.mkdir(new URL(".", `file://${Deno.cwd()}/${values.out}`), { recursive: true });
await Deno.writeTextFile(
  values.out,
  JSON.stringify({ requests: total, concurrency, promptChars, maxTokens, serveArgs, samples }),
);
