/**
 * Opens a report page in headless Chromium (Debian's `chromium`, driven by playwright-core),
 * waits for its charts, and says what it saw: data marks drawn per chart, axis labels, legends,
 * console errors, and any request the page tried to make. Also usable by hand:
 *
 *   deno run -A tests/report/_browser.ts artifacts/runs/<id>/report.html [screenshot.png]
 */
import { type BrowserContext, chromium } from "playwright-core";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM_CANDIDATES = [
  Deno.env.get("PDROUTE_CHROMIUM") ?? "",
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
].filter((p) => p !== "");

/** The Chromium binary to use, or null when none is installed. */
export function findChromium(): string | null {
  for (const path of CHROMIUM_CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** The little of the DOM the page check uses (Deno's type check has no DOM library). */
interface BrowserElement {
  readonly dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }> & {
    [Symbol.iterator](): Iterator<{ readonly textContent: string | null }>;
  };
}

export interface ChartSeen {
  readonly id: string;
  /** Lines, bars and dots drawn from data (not axes, grids or frames). */
  readonly marks: number;
  readonly xLabel: string | null;
  readonly yLabel: string | null;
  /** Entries in the chart's colour legend (0: none). */
  readonly legend: number;
  readonly empty: boolean;
  readonly error: string | null;
}

export interface PageSeen {
  readonly status: string | null;
  readonly charts: ChartSeen[];
  readonly consoleErrors: string[];
  /** Anything the page asked for besides itself (a self-contained page asks for nothing). */
  readonly requests: string[];
  readonly millis: number;
}

/** Flags Chromium needs to start headless here without touching the network. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface PageToView {
  readonly html: string;
  /** Full-page PNG to write, or null. */
  readonly screenshot: string | null;
}

/**
 * Runs `fn` with one headless Chromium (a fresh profile, removed afterwards), as the report
 * check and the package's browser check use it.
 */
export async function withChromium<T>(
  fn: (context: BrowserContext) => Promise<T>,
  executablePath = findChromium(),
): Promise<T> {
  if (executablePath === null) throw new Error("no chromium found");
  const userDataDir = await Deno.makeTempDir({ prefix: "pdroute-chromium-" });
  // A persistent context so the fresh profile directory is ours to pick and remove.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: "light",
    timeout: 30_000,
  });
  try {
    return await fn(context);
  } finally {
    await context.close();
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
  }
}

/** Opens each page in one headless Chromium and reports what it saw on each. */
export function viewReports(
  pages: readonly PageToView[],
  executablePath = findChromium(),
): Promise<PageSeen[]> {
  return withChromium(async (context) => {
    const out: PageSeen[] = [];
    for (const { html, screenshot } of pages) out.push(await view(context, html, screenshot));
    return out;
  }, executablePath);
}

async function view(
  context: BrowserContext,
  htmlPath: string,
  screenshotPath: string | null,
): Promise<PageSeen> {
  const started = performance.now();
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(resolve(htmlPath)).href;
  const page = await context.newPage();
  try {
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await page.route("**/*", (route) => {
      if (route.request().url() === url) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    await page.goto(url, { waitUntil: "load", timeout: 30_000 });
    await page.waitForSelector("html[data-report]", { timeout: 30_000 });
    const status = await page.getAttribute("html", "data-report");
    const charts = await page.$$eval("figure[data-chart]", (figures) =>
      figures.map((f) => {
        const el = f as unknown as BrowserElement;
        const count = (selector: string) => el.querySelectorAll(selector).length;
        const text = (selector: string) => {
          const found = [...el.querySelectorAll(selector)].map((n) => n.textContent ?? "")
            .filter((t) => t.trim() !== "");
          return found.length === 0 ? null : found.join(" | ");
        };
        return {
          id: el.dataset.chart ?? "",
          marks: count('g[aria-label="line"] path') + count('g[aria-label="bar"] rect') +
            count('g[aria-label="dot"] circle'),
          xLabel: text('g[aria-label="x-axis label"] text, g[aria-label="fx-axis label"] text'),
          yLabel: text('g[aria-label="y-axis label"] text'),
          legend: count('[class$="-swatch"]'),
          empty: el.dataset.empty !== undefined,
          error: el.dataset.error ?? null,
        };
      }));
    if (screenshotPath !== null) {
      await Deno.mkdir(dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath, fullPage: true });
    }
    return { status, charts, consoleErrors, requests, millis: performance.now() - started };
  } finally {
    await page.close();
  }
}

if (import.meta.main) {
  const [html, png] = Deno.args;
  if (!html) {
    console.error("usage: deno run -A tests/report/_browser.ts REPORT.html [SCREENSHOT.png]");
    Deno.exit(2);
  }
  const [seen] = await viewReports([{ html, screenshot: png ?? null }]);
  console.log(JSON.stringify(seen, null, 2));
}
