/**
 * `pdroute drive --model ... --prefill-gpus ... --decode-gpus ...` launches one `vllm serve`
 * per GPU. A fake `vllm` on PATH records how it was started (arguments, CUDA_VISIBLE_DEVICES,
 * the NIXL side-channel port) and serves an emulator on the port it was given, so the whole
 * launch -> health wait -> router -> drive -> stop path runs here without GPUs. Without vllm on
 * PATH the command says so and exits non-zero.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { KV_TRANSFER_CONFIG } from "../../src/drive/vllm_launch.ts";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function pdroute(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-no-legacy-abort", CLI, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("drive --model launches vllm serve per GPU with the P/D config, drives it, stops it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pdroute-fake-vllm-" });
  try {
    const log = `${dir}/calls.log`;
    // The fake: record the call, then serve an emulator named like the model on --port.
    await Deno.writeTextFile(
      `${dir}/vllm`,
      `#!/bin/sh
echo "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES VLLM_NIXL_SIDE_CHANNEL_PORT=$VLLM_NIXL_SIDE_CHANNEL_PORT ARGS=$*" >> "${log}"
model="$2"; port=""
while [ $# -gt 0 ]; do [ "$1" = "--port" ] && port="$2"; shift; done
exec "${Deno.execPath()}" run -A --unstable-no-legacy-abort "${CLI}" emulate --port "$port" --served-model-name "$model" --speed 10
`,
    );
    await Deno.chmod(`${dir}/vllm`, 0o755);
    const base = freePort();
    const out = `${dir}/runs`;
    const r = await pdroute([
      "drive",
      "--model",
      "fake-org/fake-model",
      "--prefill-gpus",
      "0",
      "--decode-gpus",
      "1",
      "--base-port",
      String(base),
      "--time-scale",
      "10",
      "--workload",
      "poisson",
      "--requests",
      "6",
      "--rate",
      "20",
      "--out",
      out,
      "--run-id",
      "launch",
      "--json",
    ], { PATH: `${dir}:${Deno.env.get("PATH")}`, HOME: Deno.env.get("HOME") ?? dir });
    equal(r.code, 0, r.stderr);
    const calls = (await Deno.readTextFile(log)).trim().split("\n").sort();
    deepEqual(calls, [
      `CUDA_VISIBLE_DEVICES=0 VLLM_NIXL_SIDE_CHANNEL_PORT=5600 ARGS=serve fake-org/fake-model ` +
      `--host 127.0.0.1 --port ${base} --kv-transfer-config ${KV_TRANSFER_CONFIG}`,
      `CUDA_VISIBLE_DEVICES=1 VLLM_NIXL_SIDE_CHANNEL_PORT=5601 ARGS=serve fake-org/fake-model ` +
      `--host 127.0.0.1 --port ${base + 1} --kv-transfer-config ${KV_TRANSFER_CONFIG}`,
    ]);
    const result = JSON.parse(r.stdout);
    const summary = result.runs[0].summary;
    equal(result.runs[0].label, "optimized");
    equal(summary.run.layout, "dual");
    equal(summary.requests.completed, 6);
    equal(summary.disaggregated, 6, "prefill on GPU 0, decode on GPU 1");
    deepEqual(summary.perGpu.map((g: { gpu: number; pool: string }) => [g.gpu, g.pool]), [
      [0, "prefill"],
      [1, "decode"],
    ]);
    ok(await Deno.stat(`${out}/launch/optimized/summary.json`));
    ok(await Deno.stat(`${out}/launch/engines/vllm-gpu0.log`));
    // The engines were stopped: nothing listens on their ports any more.
    for (const port of [base, base + 1]) {
      let refused = false;
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      } catch {
        refused = true;
      }
      ok(refused, `port ${port} is closed`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drive --model without vllm installed says so and exits non-zero", async () => {
  const empty = await Deno.makeTempDir({ prefix: "pdroute-no-vllm-" });
  try {
    const r = await pdroute(
      ["drive", "--model", "m", "--prefill-gpus", "0", "--decode-gpus", "1", "--no-artifacts"],
      { PATH: empty, HOME: Deno.env.get("HOME") ?? empty },
    );
    equal(r.code, 1);
    match(r.stderr, /vLLM is not installed: 'vllm' was not found on PATH/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("drive and serve refuse bad input with one clear line and exit 2", async () => {
  const env = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "/tmp" };
  const both = await pdroute(["drive", "--target", "http://x:1", "--engines", "http://y:1"], env);
  equal(both.code, 2);
  match(both.stderr, /exactly one of --target, --engines or --model/);
  const serve = await pdroute(["serve", "--port", "0"], env);
  equal(serve.code, 2);
  match(serve.stderr, /no endpoints/);
  const url = await pdroute(["serve", "--decode", "localhost:8000"], env);
  equal(url.code, 2);
  match(url.stderr, /not an http\(s\) URL/);
});
