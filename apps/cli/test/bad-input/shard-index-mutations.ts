// Mutations of model.safetensors.index.json: a weight_map that is not a map, entries naming missing,
// foreign or absurd shard files, tensors moved between shards.
import {
  accept,
  contents,
  type Expectation,
  either,
  everyCommand,
  type Mutation,
  mutation,
  reject,
} from './corpus-case.js';
import { describeValue, type FieldValue, MISSING, withField } from './json-edits.js';
import { jsonFileMutations } from './json-file-mutations.js';
import { fixtureJson, type SourceFolder } from './source-folders.js';

const FILE = 'model.safetensors.index.json';

export function shardIndexMutations(folder: SourceFolder): Mutation[] {
  const index = fixtureJson(folder, FILE);
  const weightMap = index.weight_map as Record<string, string>;
  const names = Object.keys(weightMap);
  const [firstShard, secondShard] = folder.weightFiles;
  const moved = names.find((name) => weightMap[name] === firstShard)!;
  const set = (path: string[], value: FieldValue, expect: Expectation, label?: string) =>
    mutation(
      FILE,
      label ?? `${path.join('.')} = ${describeValue(value)}`,
      contents(() => withField(index, path, value)),
      expect,
    );
  const entry = (value: FieldValue, expect: Expectation) =>
    set(['weight_map', moved], value, expect, `weight_map["${moved}"] = ${describeValue(value)}`);
  return [
    ...jsonFileMutations(FILE, JSON.stringify(index, null, 2)),
    set(['weight_map'], MISSING, reject(FILE, 'weight_map')),
    set(['weight_map'], [], reject(FILE, 'weight_map')),
    set(['weight_map'], 'model.safetensors', reject(FILE, 'weight_map')),
    set(['weight_map'], null, reject(FILE, 'weight_map')),
    set(['weight_map'], {}, reject(/\.safetensors/)),
    set(['metadata'], 'none', either('baseline', FILE, 'metadata')),
    set(['metadata', 'total_size'], 'big', accept()),
    entry(42, reject(FILE, moved)),
    entry(null, reject(FILE, moved)),
    entry('', reject(FILE)),
    entry('model-00003-of-00002.safetensors', reject(FILE, 'model-00003-of-00002.safetensors')),
    entry(secondShard, reject(/\.safetensors/, moved)),
    entry('.', reject(FILE)),
    entry('config.json', reject(/config\.json|index\.json/)),
    entry('/etc/hostname', reject(/hostname|index\.json/)),
    entry(`${folder.path}/${firstShard}`, either('baseline', FILE)),
    entry(`../${firstShard}`, reject(/\.safetensors/)),
    everyCommand(
      set(
        ['weight_map', moved],
        MISSING,
        either('baseline', /\.safetensors/, moved),
        `weight_map without "${moved}"`,
      ),
    ),
    set(['weight_map', 'corpus.extra'], firstShard, reject(FILE, 'corpus.extra')),
    // The index wins over a model.safetensors beside it, whatever that file holds.
    {
      label: 'a broken model.safetensors beside the index',
      changes: { 'model.safetensors': contents(() => 'not safetensors') },
      expect: accept(),
    },
  ];
}
