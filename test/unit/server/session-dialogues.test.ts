// Plays every dialogue file against the pure session (the e2e suite plays them over a socket).
// The bytes of each round go through the same body router and line reader as on a socket.
import { describe, expect, it } from 'vitest';
import { loadDialogues, replyMatches } from '../../helpers/dialogue.js';
import { PureDriver } from '../../helpers/pure-driver.js';

describe('session dialogues', () => {
  for (const dialogue of loadDialogues()) {
    it(`session plays ${dialogue.name}`, () => {
      const driver = new PureDriver().connect();
      const seen = driver.lastLines();
      expect(replyMatches(seen[0] ?? '', dialogue.greeting), `greeting: ${seen[0]}`).toBe(true);
      let next = 1;
      for (const round of dialogue.rounds) {
        const sent = round.send.toString('latin1');
        driver.send(round.send);
        const got = driver.lastLines().slice(next);
        next += got.length;
        expect(got.length, `replies to ${JSON.stringify(sent)}: ${JSON.stringify(got)}`).toBe(round.expect.length);
        round.expect.forEach((want, i) => expect(replyMatches(got[i] ?? '', want), `${got[i]} vs ${want}`).toBe(true));
      }
    });
  }
});
