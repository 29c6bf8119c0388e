import { ChatSession } from './chat-session.js';
import { byTestId, make } from './dom.js';
import { readGenerationForm } from './generation-form.js';
import { runExclusive, whenModelChanges } from './page-state.js';

/** The chat with the loaded model; a new model or "New chat" starts another. */
let chat: ChatSession | undefined;

function resetChat(): void {
  chat?.dispose();
  chat = undefined;
  byTestId('chat-log').replaceChildren();
}

/** Sends the chat input as the user's turn and streams the model's reply (with the form's options). */
function sendChat(): Promise<void> {
  const input = byTestId<HTMLInputElement>('chat-input');
  const status = byTestId('chat-status');
  const text = input.value.trim();
  if (text === '') return Promise.resolve();
  return runExclusive(
    async ({ pretrained, tokenizer }, signal) => {
      if (pretrained.family.task !== 'causal-lm') throw new Error('chat needs a decoder-only model');
      const request = readGenerationForm(byTestId<HTMLFormElement>('options'));
      chat ??= new ChatSession(pretrained, tokenizer);
      input.value = '';
      const log = byTestId('chat-log');
      const bubble = make('div', '', 'assistant');
      log.append(make('div', text, 'user'), bubble);
      const ids: number[] = [];
      const turn = await chat.say(text, request, {
        signal,
        onToken: (choice) => {
          ids.push(choice.id);
          bubble.textContent = tokenizer.decode(ids, { skipSpecialTokens: true });
        },
      });
      bubble.textContent = turn.reply;
      const dropped = turn.droppedTurns > 0 ? `, ${turn.droppedTurns} oldest turns dropped` : '';
      status.textContent = `${turn.fedTokens} tokens read, ${turn.reusedTokens} reused from the KV cache${dropped}`;
    },
    () => {
      status.textContent = 'stopped';
    },
  );
}

export function wireChatPanel(): void {
  byTestId<HTMLFormElement>('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sendChat();
  });
  byTestId('chat-reset').addEventListener('click', resetChat);
  whenModelChanges(resetChat);
}
