// The bad-input corpus: every mutation family applied to every fixture folder, crossed with the
// commands that read the mutated file. Deterministic for a seed; every case has a readable name.
import { configMutations } from './config-mutations.js';
import type { CorpusCase, CorpusCommand, Expectation, Mutation } from './corpus-case.js';
import { fileKindMutations } from './file-kind-mutations.js';
import { generationConfigMutations } from './generation-config-mutations.js';
import { safetensorsMutations } from './safetensors-mutations.js';
import { type SeededDraws, seededDraws } from './seeded-draws.js';
import { shardIndexMutations } from './shard-index-mutations.js';
import { commandsReading, fixtureBytes, SOURCE_FOLDERS, type SourceFolder } from './source-folders.js';
import { tokenizerConfigMutations, tokenizerMutations } from './tokenizer-mutations.js';

/** The seed the test runs with; another seed draws other tensors, bytes and bits. */
export const DEFAULT_CORPUS_SEED = 10;

export interface CorpusOptions {
  seed?: number;
}

/** Every case of the corpus, in a fixed order: by folder, then by the file and family mutated. */
export function badInputCorpus(options: CorpusOptions = {}): CorpusCase[] {
  const seed = options.seed ?? DEFAULT_CORPUS_SEED;
  const cases: CorpusCase[] = [];
  const names = new Set<string>();
  for (const folder of SOURCE_FOLDERS) {
    for (const [group, file, all] of mutationGroups(folder, seed)) {
      const mutations = folder.thorough
        ? all
        : sampleReaderLevel(all, seededDraws(seed, `sample ${folder.name}/${file}`));
      for (const mutation of mutations) {
        for (const command of mutation.commands ?? chosenCommands(folder, file, mutation)) {
          const expect = expectation(mutation, command);
          const changed = Object.keys(mutation.changes)[0]!;
          const name = `${folder.name}/${changed}: ${mutation.label} · ${command}`;
          if (names.has(name)) throw new Error(`two corpus cases are named ${name}`);
          names.add(name);
          cases.push({
            name,
            folder: folder.name,
            changes: mutation.changes,
            command,
            expect,
            group: `${group}: ${folder.name}`,
          });
        }
      }
    }
  }
  return cases;
}

/** Every mutation but the reader-level ones, of which a seeded quarter (in their order). */
function sampleReaderLevel(mutations: readonly Mutation[], draws: SeededDraws): Mutation[] {
  const reader = mutations.filter((m) => m.readerLevel);
  const kept = new Set(draws.pick(reader, Math.ceil(reader.length / 4)));
  return mutations.filter((m) => !m.readerLevel || kept.has(m));
}

function expectation(mutation: Mutation, command: CorpusCommand): Expectation {
  return typeof mutation.expect === 'function' ? mutation.expect(command) : mutation.expect;
}

/**
 * The commands a mutation runs through: a rejection through the cheapest command that reads the file
 * (they all read it with the same code) unless the mutation asks for every command; anything else
 * through every command that reads the file, but for `generate` on a large folder when a cheaper
 * command reads the file too (a success there loads megabytes).
 */
function chosenCommands(folder: SourceFolder, file: string, mutation: Mutation): CorpusCommand[] {
  const reading = commandsReading(folder, file);
  const cheapest = reading[reading.length - 1];
  return reading.filter((command) => {
    if (mutation.everyCommand) return true;
    if (expectation(mutation, command).outcome === 'reject') return command === cheapest;
    return !(folder.large && command === 'generate' && command !== cheapest);
  });
}

/** The corpus's mutation families for one folder: [group, the file they mutate, mutations]. */
function* mutationGroups(folder: SourceFolder, seed: number): Generator<[string, string, Mutation[]]> {
  yield ['config.json', 'config.json', configMutations(folder)];
  for (const file of folder.weightFiles) {
    const draws = seededDraws(seed, `${folder.name}/${file}`);
    yield [
      'safetensors',
      file,
      safetensorsMutations(file, fixtureBytes(folder, file), draws, folder.thorough),
    ];
  }
  if (folder.files.includes('model.safetensors.index.json')) {
    yield ['shard index', 'model.safetensors.index.json', shardIndexMutations(folder)];
  }
  if (folder.folderCommands.includes('generate') && !folder.large) {
    yield ['tokenizer files', 'tokenizer.json', tokenizerMutations(folder)];
    yield ['tokenizer files', 'tokenizer_config.json', tokenizerConfigMutations(folder)];
    yield ['generation_config.json', 'generation_config.json', generationConfigMutations(folder)];
  }
  for (const file of folder.files) {
    const reading = commandsReading(folder, file);
    // Tokenizer and generation files are read by generate alone: a large folder leaves them to the small.
    const onlyGenerate = reading.every((command) => command === 'generate');
    if (reading.length > 0 && !(folder.large && onlyGenerate))
      yield ['file kinds', file, fileKindMutations(file)];
  }
}
