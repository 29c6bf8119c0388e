import { packageProject } from '../../vitest.shared.js';

const project = packageProject('layers');
// vitest.shared.ts lists '@tsformer/core-tensor' before '@tsformer/core-tensor/testing', and an alias
// also matches subpaths: list the longest names first so subpath exports resolve to their own files.
const aliases = Object.entries(project.resolve?.alias ?? {}) as [string, string][];
project.resolve = {
  ...project.resolve,
  alias: aliases
    .sort(([a], [b]) => b.length - a.length)
    .map(([name, path]) => ({ find: new RegExp(`^${name}$`), replacement: path })),
};

export default project;
