import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/**
 * Debian's chromium driven by playwright-core, shared by the browser tests. Without it those
 * tests are skipped with a warning, except under REQUIRE_SERVICES=1 (.ci/run), where a missing
 * browser is a failure.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
const REQUIRE = process.env.REQUIRE_SERVICES === "1";

/** Patience for anything a browser does (launch, navigation, a selector), in ms. */
export const BROWSER_WAIT_MS = 30_000;

/** `test`, or `test.skip` with a warning when Chromium is missing and not required. */
export function browserTestFn(what: string): jest.It {
  if (!HAVE_CHROMIUM && !REQUIRE) console.warn(`SKIPPED: ${CHROMIUM_PATH} is missing (apt-get install -y chromium); ${what} need it.`);
  return HAVE_CHROMIUM || REQUIRE ? test : test.skip;
}

/** Launches headless Chromium; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(`${CHROMIUM_PATH} is missing (REQUIRE_SERVICES=1)`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // Background networking off, so every request a page records is the page's own.
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: BROWSER_WAIT_MS,
  });
}
