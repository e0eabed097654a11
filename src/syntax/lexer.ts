// The one lexer instance.
import { Lexer } from "chevrotain";
import { allTokens } from "./tokens.js";

export const lexer = new Lexer(allTokens, { ensureOptimizations: true, positionTracking: "full" });
