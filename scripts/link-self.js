// Makes `import ... from "dyt-lab"` resolve everywhere in the repo, including in
// tslab notebooks: tslab compiles with its own TypeScript (node10 resolution),
// which ignores package self-reference, so the package must sit in node_modules.
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "dyt-lab");
try {
  const st = fs.lstatSync(link);
  if (st.isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(root)) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  /* absent */
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
