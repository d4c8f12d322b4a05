// A message that is not a command; parseCommand turns it into a reply naming
// the problem and the usage line of the command meant.
import { KubemendError, Errors } from '../common/index.ts';

export class GrammarError extends KubemendError {
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(Errors.CHAT_BAD_COMMAND, message);
    this.usage = usage;
  }
}
