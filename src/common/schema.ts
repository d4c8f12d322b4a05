// zod building blocks shared by every config format.
import { z } from 'zod';
import { parseDuration } from './clock.ts';

/** `90s`, `5m`, `1h30m`, `250ms` or a number of seconds → milliseconds. */
export const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});
