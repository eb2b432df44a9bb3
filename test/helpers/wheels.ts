import { mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface WheelSpec {
  /** Distribution name as written in METADATA (e.g. `PyYAML`, `wmtest-alpha`). */
  name: string;
  version: string;
  /** Importable top-level module (default: the name with `-` → `_`, lower-cased). */
  module?: string;
  /** Requires-Dist lines (e.g. `wmtest-beta>=1.0`). */
  requires?: string[];
}

// A pure-Python wheel written by hand with zipfile: <pkg>/__init__.py, METADATA, WHEEL, RECORD.
const BUILD = String.raw`
import base64, hashlib, json, sys, zipfile, os
out, specs = sys.argv[1], json.loads(sys.argv[2])
for s in specs:
    name, version = s["name"], s["version"]
    module = s.get("module") or name.replace("-", "_").lower()
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
    meta += "".join("Requires-Dist: %s\n" % r for r in s.get("requires", []))
    files = {
        f"{module}/__init__.py": "__version__ = %r\nNAME = %r\n" % (version, name),
        f"{info}/METADATA": meta,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: wmill-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    whl = os.path.join(out, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
        for path, text in files.items():
            z.writestr(path, text)
`;

/** Write pure-Python wheels into `dir` (a pip `--find-links` folder). */
export function buildWheels(dir: string, specs: WheelSpec[]): void {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(process.env.WMILL_PYTHON || 'python3', ['-c', BUILD, dir, JSON.stringify(specs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building wheels failed: ${r.stderr}`);
}
