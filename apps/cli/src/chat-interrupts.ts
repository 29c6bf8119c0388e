import type { Interface } from 'node:readline';

/** The exit status of a chat ended by Ctrl-C: 128 + SIGINT, as shells report a process killed by it. */
export const EXIT_INTERRUPTED = 130;

/**
 * Ctrl-C in `tsformer chat`, whether it arrives as SIGINT (piped stdin) or as a keypress read by a
 * terminal's readline: during a reply it aborts the reply (the chat goes on); at the prompt, or while
 * a reply is already being stopped, it ends the chat (`exitRequested`, the line reader closed).
 */
export class ChatInterrupts {
  exitRequested = false;
  private reply: AbortController | undefined;
  private readonly onInterrupt = () => {
    if (this.reply !== undefined && !this.reply.signal.aborted) {
      this.reply.abort('Ctrl-C');
      return;
    }
    this.exitRequested = true;
    this.lines.close();
  };

  constructor(private readonly lines: Interface) {
    process.on('SIGINT', this.onInterrupt);
    lines.on('SIGINT', this.onInterrupt);
  }

  /** A reply starts: the signal a Ctrl-C aborts. */
  startReply(): AbortSignal {
    this.reply = new AbortController();
    return this.reply.signal;
  }

  /** The reply ended (finished or stopped): Ctrl-C ends the chat again. */
  endReply(): void {
    this.reply = undefined;
  }

  /** Gives SIGINT back to Node's default (ending the process). */
  dispose(): void {
    process.off('SIGINT', this.onInterrupt);
    this.lines.off('SIGINT', this.onInterrupt);
  }
}
