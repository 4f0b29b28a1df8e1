/** Every file under `dir` (relative path -> text), for comparing output directories byte for byte. */
export async function readTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      for (const [k, v] of Object.entries(await readTree(path))) out[`${entry.name}/${k}`] = v;
    } else out[entry.name] = await Deno.readTextFile(path);
  }
  return out;
}
