import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { renderReadmeExample } from "../../scripts/example";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

/** The Markdown a user of a clone reads: the README and every page under docs/. */
const PAGES = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Plain directory entries of .gitignore: outputs that commands create. */
const GENERATED = read(".gitignore")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l.endsWith("/") && !l.startsWith("#") && !l.includes("*"));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const text = markdown.replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}

/** Outside fenced code blocks: Markdown link targets, and inline-code spans that look like repository paths. */
function references(markdown: string): { links: string[]; codePaths: string[] } {
  const text = markdown.replace(/```[\s\S]*?```/g, "");
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
  const codePaths = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!).filter((c) => /^(\.\.\/|\.\/)?(docs|src|scripts|test|drizzle|bench|docker|\.ci)\/[\w./-]*$|^\.\.\//.test(c));
  return { links, codePaths };
}

describe("the README and docs/ are complete in a clone", () => {
  test.each(PAGES)("%s: every relative link and path stays inside the repository and exists", (page) => {
    const dir = path.dirname(path.join(ROOT, page));
    const { links, codePaths } = references(read(page));
    const problems: string[] = [];
    for (const link of links) {
      const [file, anchor] = link.split("#") as [string, string | undefined];
      const target = file === "" ? path.join(ROOT, page) : path.resolve(dir, file);
      if (path.relative(ROOT, target).startsWith("..")) problems.push(`${link}: outside the repository`);
      else if (!existsSync(target)) problems.push(`${link}: missing`);
      else if (anchor && target.endsWith(".md") && !anchors(readFileSync(target, "utf8")).has(anchor)) problems.push(`${link}: no heading #${anchor}`);
    }
    // Paths in code spans are written from the repository root (the README's convention);
    // directories that commands create (ignored by git) need not exist yet.
    for (const p of codePaths) {
      if (p.startsWith("../")) problems.push(`\`${p}\`: outside the repository`);
      else if (!existsSync(path.join(ROOT, p)) && !GENERATED.some((g) => p.startsWith(g))) problems.push(`\`${p}\`: missing`);
    }
    expect(problems).toEqual([]);
  });

  test("the README's example block is exactly what `npm run example` runs", () => {
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("## The API in one example"));
    const block = /```graphql\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block).toBe(renderReadmeExample());
  });
});
