// Mutations of config.json: the file as a whole; every size field set to 0, -1, 1e308, 1e7, 2^53, a
// string, a fraction, null, left out or doubled; token ids outside the vocabulary or of the wrong type;
// wrong types for model_type, the activation, the epsilon, booleans and the RoPE fields; duplicate keys.
import {
  accept,
  type CorpusCommand,
  contents,
  type Expectation,
  either,
  everyCommand,
  type Mutation,
  mutation,
  reject,
} from './corpus-case.js';
import { describeValue, type FieldValue, MISSING, raw, withField, withFields } from './json-edits.js';
import { jsonFileMutations } from './json-file-mutations.js';
import { fixtureJson, type SourceFolder } from './source-folders.js';

const FILE = 'config.json';

/** An error about the config names config.json, or the weight file that disagrees with it. */
const CONFIG_OR_WEIGHTS = /config\.json|\.safetensors/;

/** Sizes that a real checkpoint may have in the millions (vocabularies, position tables). */
const LARGE_SIZE_FIELDS = new Set([
  'vocab_size',
  'decoder_vocab_size',
  'max_position_embeddings',
  'n_positions',
]);

/** The mutations of a folder's config.json. */
export function configMutations(folder: SourceFolder): Mutation[] {
  const config = fixtureJson(folder, FILE);
  const set = (path: string[], value: FieldValue, expect: Mutation['expect'], label?: string) =>
    mutation(
      FILE,
      label ?? `${path.join('.')} = ${describeValue(value)}`,
      contents(() => withField(config, path, value)),
      expect,
    );
  // `generate` reads config.json's token ids twice (generation defaults, then the family's config):
  // a bad one is checked through it as well as through `inspect --config`.
  const setTokenId: SetField = (path, value, expect, label) => ({
    ...set(path, value, expect, label),
    commands: [...folder.folderCommands.filter((command) => command === 'generate'), 'inspect --config'],
  });
  // A valid config for another model: loading and inspect --model must find the weights do not fit.
  const setSize: SetField = (path, value, expect, label) => {
    const made = set(path, value, expect, label);
    return expect === weightsOrValid ? everyCommand(made) : made;
  };
  const vocabSize = config.vocab_size as number;
  return [
    ...jsonFileMutations(FILE, JSON.stringify(config, null, 2)),
    ...folder.sizeFields.flatMap((field) => sizeFieldMutations(folder, config, field, setSize)),
    ...folder.tokenIdFields.flatMap((field) => tokenIdMutations(field, vocabSize, setTokenId)),
    ...modelTypeMutations(config, set),
    ...typedFieldMutations(folder, set),
    ...(folder.rotary ? ropeMutations(config) : []),
    everyCommand(
      mutation(
        FILE,
        `${folder.sizeFields[1]} given twice, the second one doubled (JSON keeps the last)`,
        contents(() => {
          const field = folder.sizeFields[1]!;
          const text = JSON.stringify(config, null, 2);
          return `${text.trimEnd().slice(0, -1)},\n  "${field}": ${(config[field] as number) * 2}\n}`;
        }),
        weightsOrValid,
      ),
    ),
    mutation(
      FILE,
      'model_type given twice, the second "bogus"',
      contents(
        () => `${JSON.stringify(config, null, 2).trimEnd().slice(0, -1)},\n  "model_type": "bogus"\n}`,
      ),
      reject(FILE, 'model_type'),
    ),
  ];
}

type SetField = (path: string[], value: FieldValue, expect: Mutation['expect'], label?: string) => Mutation;

/**
 * A config for another model, valid or not (a changed size may break a rule between fields): the
 * weights decide when the command reads them; `inspect --config` counts it or names the field.
 */
function weightsOrValid(command: CorpusCommand): Expectation {
  return command === 'inspect --config' ? either('any', FILE) : either('any', CONFIG_OR_WEIGHTS);
}

function sizeFieldMutations(
  folder: SourceFolder,
  config: Record<string, unknown>,
  field: string,
  set: SetField,
): Mutation[] {
  const original = config[field];
  const value = typeof original === 'number' ? original : 64;
  const bad = reject(FILE, field);
  const nullable = folder.nullableSizeFields.includes(field);
  return [
    set([field], 0, bad),
    set([field], -1, bad),
    set([field], 1e308, bad),
    // Ten million: a positive integer, far past any sane size but for vocabularies and positions.
    set([field], 1e7, LARGE_SIZE_FIELDS.has(field) ? weightsOrValid : bad),
    set([field], 2 ** 53, bad),
    set([field], String(value), bad),
    set([field], value + 0.5, bad),
    // null or absent: the default (or the derived value) is a valid config, which the weights may not fit.
    set([field], null, nullable ? weightsOrValid : bad),
    set([field], MISSING, weightsOrValid),
    set([field], value * 2, weightsOrValid, `${field} doubled (${value * 2})`),
  ];
}

function tokenIdMutations(field: string, vocabSize: number, set: SetField): Mutation[] {
  const bad = reject(FILE, field);
  return [
    set([field], vocabSize, bad, `${field} = vocab_size (${vocabSize})`),
    set([field], -1, bad),
    set([field], '0', bad),
    set([field], 1.5, bad),
    set([field], [vocabSize], bad, `${field} = [vocab_size]`),
    set([field], null, either('any', FILE, field)),
  ];
}

function modelTypeMutations(config: Record<string, unknown>, set: SetField): Mutation[] {
  const bad = reject(FILE, 'model_type');
  const type = config.model_type as string;
  return [
    set(['model_type'], MISSING, bad),
    set(['model_type'], 'bogus', bad),
    set(['model_type'], type.toUpperCase(), bad),
    set(['model_type'], 42, bad),
    set(['model_type'], null, bad),
  ];
}

function typedFieldMutations(folder: SourceFolder, set: SetField): Mutation[] {
  const activation = folder.activationField;
  const mutations = [
    set([activation], 'bogus_activation', reject(FILE, activation)),
    set([activation], 42, reject(FILE, activation)),
    set([activation], null, either('baseline', FILE, activation)),
  ];
  if (folder.epsilonField) {
    const epsilon = folder.epsilonField;
    mutations.push(
      set([epsilon], 0, reject(FILE, epsilon)),
      set([epsilon], -1e-5, reject(FILE, epsilon)),
      set([epsilon], '1e-5', reject(FILE, epsilon)),
      set([epsilon], 1e308, either('any', FILE, epsilon)),
    );
  }
  for (const field of folder.booleanFields) {
    mutations.push(
      set([field], 'true', reject(FILE, field)),
      set([field], 1, reject(FILE, field)),
      set([field], null, either('any', FILE, field)),
    );
  }
  mutations.push(
    set(['architectures'], 'NotAList', accept()),
    set(['transformers_version'], 5, accept()),
    set(['dtype'], 'float16', either('baseline', FILE, 'dtype')),
    set(['use_cache'], 'yes', either('baseline', FILE, 'use_cache')),
    set(['id2label'], [], either('baseline', FILE, 'id2label')),
  );
  return mutations;
}

/** RoPE as transformers 5 writes it (rope_parameters) and as 4.x did (rope_theta + rope_scaling). */
function ropeMutations(config: Record<string, unknown>): Mutation[] {
  const theta = (config.rope_parameters as { rope_theta: number }).rope_theta;
  const v5 = (label: string, value: FieldValue, expect: Expectation) =>
    mutation(
      FILE,
      `rope_parameters = ${label}`,
      contents(() => withField(config, ['rope_parameters'], value)),
      expect,
    );
  // The 4.x spelling: rope_parameters gone, rope_theta and rope_scaling at the top.
  const v4 = (label: string, fields: Record<string, FieldValue>, expect: Expectation) =>
    mutation(
      FILE,
      `4.x rope fields: ${label}`,
      contents(() => withFields(config, { rope_parameters: MISSING, rope_theta: theta, ...fields })),
      expect,
    );
  const ropeField = /rope/;
  return [
    v5('[]', [], reject(FILE, 'rope_parameters')),
    v5('"default"', 'default', reject(FILE, 'rope_parameters')),
    v5('42', 42, reject(FILE, 'rope_parameters')),
    v5('null', null, either('baseline', FILE, 'rope_parameters')),
    v5('{}', {}, either('baseline', FILE, 'rope_parameters')),
    v5('{rope_type: "bogus"}', { rope_type: 'bogus', rope_theta: theta }, reject(FILE, ropeField)),
    v5(
      '{rope_type: "linear"} without factor',
      { rope_type: 'linear', rope_theta: theta },
      reject(FILE, 'factor'),
    ),
    v5(
      '{rope_type: "linear", factor: "2"}',
      { rope_type: 'linear', factor: '2', rope_theta: theta },
      reject(FILE, 'factor'),
    ),
    v5(
      '{rope_type: "linear", factor: -2}',
      { rope_type: 'linear', factor: -2, rope_theta: theta },
      reject(FILE, 'factor'),
    ),
    v5(
      '{rope_type: "linear", factor: 2}',
      { rope_type: 'linear', factor: 2, rope_theta: theta },
      accept('any'),
    ),
    v5('{rope_theta: -1}', { rope_type: 'default', rope_theta: -1 }, reject(FILE, 'rope_theta')),
    v5(
      '{rope_theta: "10000"}',
      { rope_type: 'default', rope_theta: String(theta) },
      reject(FILE, 'rope_theta'),
    ),
    v5('{rope_theta: 1e400}', raw('{"rope_type":"default","rope_theta":1e400}'), reject(FILE, 'rope_theta')),
    v5(
      '{rope_type: "dynamic", factor: 0}',
      { rope_type: 'dynamic', factor: 0, rope_theta: theta },
      reject(FILE, 'factor'),
    ),
    v5(
      '{rope_type: "yarn"} without factor',
      { rope_type: 'yarn', rope_theta: theta },
      reject(FILE, 'factor'),
    ),
    v4('rope_theta = "10000"', { rope_theta: String(theta) }, reject(FILE, 'rope_theta')),
    v4('rope_theta = -1', { rope_theta: -1 }, reject(FILE, 'rope_theta')),
    v4('rope_theta = null', { rope_theta: null }, either('baseline', FILE, 'rope_theta')),
    v4('rope_scaling = "linear"', { rope_scaling: 'linear' }, reject(FILE, 'rope_scaling')),
    v4('rope_scaling = []', { rope_scaling: [] }, reject(FILE, 'rope_scaling')),
    v4(
      'rope_scaling = {type: "bogus", factor: 2}',
      { rope_scaling: { type: 'bogus', factor: 2 } },
      reject(FILE, ropeField),
    ),
    v4(
      'rope_scaling = {type: "linear"} without factor',
      { rope_scaling: { type: 'linear' } },
      reject(FILE, 'factor'),
    ),
    v4(
      'rope_scaling = {type: "linear", factor: 2}',
      { rope_scaling: { type: 'linear', factor: 2 } },
      accept('any'),
    ),
    v4('rope_scaling = null', { rope_scaling: null }, accept()),
  ];
}
