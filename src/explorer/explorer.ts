import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Express, NextFunction, Request, Response } from "express";
import { EXPLORER_CLIENT_JS, EXPLORER_CSS, renderExplorerPage, type ExplorerAssetUrls } from "./explorer-page";

export interface ExplorerOptions {
  /** Where Apollo serves GraphQL, e.g. `/graphql`; the page is served there too. */
  graphqlPath: string;
}

interface Asset {
  body: Buffer;
  contentType: string;
  hash: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/**
 * Reads a file shipped inside an npm package. The packages' export maps hide their UMD
 * builds from `require.resolve`, so resolve `package.json` (always exported) and walk from there.
 */
function packageFile(pkg: string, file: string): Buffer {
  return readFileSync(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file));
}

function asset(body: Buffer | string, contentType: string): Asset {
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return { body: buf, contentType, hash: createHash("sha256").update(buf).digest("hex").slice(0, 16) };
}

/** Loaded once at mount, so a missing package fails start-up rather than the first page view. */
function loadAssets(): Record<keyof ExplorerAssetUrls, { name: string; asset: Asset }> {
  return {
    graphiqlCss: { name: "graphiql.min.css", asset: asset(packageFile("graphiql", "graphiql.min.css"), CSS) },
    explorerCss: { name: "explorer.css", asset: asset(EXPLORER_CSS, CSS) },
    react: { name: "react.production.min.js", asset: asset(packageFile("react", "umd/react.production.min.js"), JS) },
    reactDom: { name: "react-dom.production.min.js", asset: asset(packageFile("react-dom", "umd/react-dom.production.min.js"), JS) },
    graphqlWs: { name: "graphql-ws.min.js", asset: asset(packageFile("graphql-ws", "umd/graphql-ws.min.js"), JS) },
    graphiql: { name: "graphiql.min.js", asset: asset(packageFile("graphiql", "graphiql.min.js"), JS) },
    explorerJs: { name: "explorer.js", asset: asset(EXPLORER_CLIENT_JS, JS) },
  };
}

// Only a plain host[:port] is echoed into the CSP; anything odd falls back to 'self' alone.
const SAFE_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The page's policy: nothing but this origin. 'self' covers same-origin ws: in CSP 3 browsers;
 * the explicit ws:/wss: origins cover browsers that predate that rule. GraphiQL's stylesheet
 * embeds its fonts and icons as data: URLs.
 */
function contentSecurityPolicy(host: string | undefined): string {
  const sockets = host && SAFE_HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** True for a browser navigation: it prefers HTML over JSON (curl's `*\/*` does not). */
function wantsHtml(req: Request): boolean {
  return req.accepts(["application/json", "application/graphql-response+json", "text/html"]) === "text/html";
}

/**
 * Serves GraphiQL at `GET <graphqlPath>` from bundled assets, for development: no CDN, no
 * outside request. Mount it before Apollo's middleware and only outside production. A GET
 * that is a GraphQL request (a `query` parameter, or not asking for HTML) passes through.
 */
export function mountExplorer(app: Express, opts: ExplorerOptions): void {
  const base = opts.graphqlPath.replace(/\/+$/, "");
  const assetBase = `${base}/explorer/assets`;
  const assets = loadAssets();
  const byName = new Map(Object.values(assets).map((a) => [a.name, a.asset]));
  const urls = Object.fromEntries(
    Object.entries(assets).map(([key, a]) => [key, `${assetBase}/${a.asset.hash}/${a.name}`]),
  ) as unknown as ExplorerAssetUrls;
  const html = renderExplorerPage({ graphqlPath: base, assets: urls });

  app.get(base, (req: Request, res: Response, next: NextFunction) => {
    if (req.query.query !== undefined || !wantsHtml(req)) return next();
    res.set({
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      "Content-Security-Policy": contentSecurityPolicy(req.headers.host),
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      // The same URL answers JSON to GraphQL clients.
      Vary: "Accept",
    });
    res.send(html);
  });

  app.get(`${assetBase}/:hash/:name`, (req: Request, res: Response) => {
    const found = byName.get(String(req.params.name));
    // A stale hash (an old page after an upgrade) must not be cached as if it were current.
    if (!found || found.hash !== req.params.hash) {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    res.set({
      "Content-Type": found.contentType,
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
      ETag: `"${found.hash}"`,
    });
    res.send(found.body);
  });
}
