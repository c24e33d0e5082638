/** Minimal `--key value` / `--flag` parser; positional args are returned separately. */
export function parseArgs(argv: string[], known: string[]): { flags: Record<string, string>; positional: string[] } {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(key)) throw new Error(`unknown option --${key}; known options: ${known.map((k) => "--" + k).join(" ")}`);
    if (eq > 0) flags[key] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) flags[key] = argv[++i]!;
    else flags[key] = "true";
  }
  return { flags, positional };
}
