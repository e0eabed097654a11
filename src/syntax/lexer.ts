// The one lexer instance.
import { Lexer } from "chevrotain";
import { allTokens } from "./tokens.js";

// safeMode skips the first-character optimisation: its analysis of every token
// pattern costs more at start-up (~9 ms) than it saves on files of a few lines.
export const lexer = new Lexer(allTokens, { safeMode: true, skipValidations: true, positionTracking: "full" });
