import { describeBackend } from './backends.js';
import { byTestId, make } from './dom.js';
import { readGenerationForm } from './generation-form.js';
import { showRunInside } from './inside-panel.js';
import { OutputView } from './output-view.js';
import { page, runExclusive } from './page-state.js';
import { runGeneration, tokensPerSecond } from './run-generation.js';

/**
 * Generates from the prompt with the form's options: the output streams into the output box, beam
 * search's (or sampling's) returned sequences are listed with their scores, the pace is shown after.
 */
export function generateNow(): Promise<void> {
  const stats = byTestId('stats');
  return runExclusive(
    async ({ pretrained, tokenizer }, signal) => {
      const prompt = byTestId<HTMLTextAreaElement>('prompt').value;
      const sequences = byTestId('sequences');
      const output = new OutputView(byTestId('output'), byTestId('candidates'), tokenizer);
      sequences.replaceChildren();
      stats.textContent = '';
      const request = readGenerationForm(byTestId<HTMLFormElement>('options'));
      // Decoder-only output continues the prompt; an encoder-decoder's stands alone.
      const shownPrompt = pretrained.family.task === 'seq2seq-lm' ? '' : prompt;
      output.start(shownPrompt);
      const run = await runGeneration(pretrained, tokenizer, tokenizer.encode(prompt), request, {
        signal,
        onToken: (choice) => output.add(choice),
      });
      output.finish(shownPrompt, run.texts[0]!);
      if (run.texts.length > 1 || run.scores) {
        sequences.replaceChildren(
          ...run.texts.map((text, row) => {
            // As `tsformer generate` prints each sequence: the score, then the prompt and the text.
            const score = run.scores?.[row];
            return make(
              'li',
              `${score === undefined ? '' : `(score ${score.toFixed(4)}) `}${shownPrompt}${text}`,
            );
          }),
        );
      }
      const rate = tokensPerSecond(run);
      const newTokens = Math.max(...run.generated.map((ids) => ids.length));
      stats.textContent =
        `${newTokens} tokens in ${Math.round(run.totalMs)} ms, first after ${Math.round(run.firstTokenMs)} ms` +
        `${rate === undefined ? '' : `, then ${rate.toFixed(1)} tokens/s`}` +
        ` (${page.backend ? describeBackend(page.backend.info) : ''})`;
      page.lastRun = { prompt, run };
      await showRunInside();
    },
    () => {
      stats.textContent = 'stopped';
    },
  );
}

export function wireGeneratePanel(): void {
  byTestId('generate').addEventListener('click', () => generateNow());
  byTestId('stop').addEventListener('click', () => page.running?.abort(new Error('stopped from the page')));
}
