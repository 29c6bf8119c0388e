import { describe, expect, it } from 'vitest';
import { badInputCorpus } from './bad-input-corpus.js';
import { SOURCE_FOLDERS } from './source-folders.js';

describe('badInputCorpus', () => {
  const corpus = badInputCorpus();

  it('gives over a thousand cases, the same ones for the same seed and others for another seed', () => {
    expect(corpus.length).toBeGreaterThan(1000);
    expect(badInputCorpus().map((c) => c.name)).toEqual(corpus.map((c) => c.name));
    const other = new Set(badInputCorpus({ seed: 11 }).map((c) => c.name));
    expect(corpus.filter((c) => !other.has(c.name)).length).toBeGreaterThan(0);
  });

  it('mutates every fixture folder through every command that reads it', () => {
    for (const folder of SOURCE_FOLDERS) {
      const commands = new Set(corpus.filter((c) => c.folder === folder.name).map((c) => c.command));
      expect([...commands].sort(), folder.name).toEqual(
        [...folder.folderCommands, 'inspect --config'].sort(),
      );
    }
  });

  it('covers safetensors, configs, tokenizer files, generation configs and file kinds', () => {
    const groups = new Set(corpus.map((c) => c.group.split(':')[0]));
    expect([...groups].sort()).toEqual([
      'config.json',
      'file kinds',
      'generation_config.json',
      'safetensors',
      'shard index',
      'tokenizer files',
    ]);
  });
});
