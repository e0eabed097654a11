// The chevrotain parser: source tokens → concrete syntax tree.
// The grammar reference in grammar/ is generated from this class.
import { CstParser } from "chevrotain";
import { messages } from "./messages.js";
import * as t from "./tokens.js";

export class RuleParser extends CstParser {
  constructor() {
    super(t.allTokens, { maxLookahead: 1, errorMessageProvider: messages, skipValidations: process.env.QTRIP_VALIDATE_GRAMMAR !== "1" });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  item = this.RULE("item", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.caseDecl) },
      { ALT: () => this.SUBRULE(this.titleDecl) },
      { ALT: () => this.SUBRULE(this.channelDecl) },
      { ALT: () => this.SUBRULE(this.paramDecl) },
      { ALT: () => this.SUBRULE(this.rule) },
    ]);
  });

  caseDecl = this.RULE("caseDecl", () => {
    this.CONSUME(t.Case);
    this.CONSUME(t.StringLiteral);
  });

  titleDecl = this.RULE("titleDecl", () => {
    this.CONSUME(t.Title);
    this.CONSUME(t.StringLiteral);
  });

  channelDecl = this.RULE("channelDecl", () => {
    this.CONSUME(t.Channel);
    this.CONSUME(t.Port);
    this.SUBRULE(this.number, { LABEL: "port" });
    this.CONSUME(t.Value);
    this.SUBRULE2(this.number, { LABEL: "value" });
  });

  paramDecl = this.RULE("paramDecl", () => {
    this.CONSUME(t.Param);
    this.CONSUME(t.Identifier, { LABEL: "name" });
    this.CONSUME(t.Colon);
    this.CONSUME2(t.Identifier, { LABEL: "type" });
    this.OPTION(() => {
      this.CONSUME(t.Equals);
      this.SUBRULE(this.literal, { LABEL: "default" });
    });
  });

  rule = this.RULE("rule", () => {
    this.CONSUME(t.When);
    this.SUBRULE(this.condition);
    this.OPTION(() => this.SUBRULE(this.filters));
    this.MANY(() => this.SUBRULE(this.sequel));
    this.MANY2(() => this.SUBRULE(this.modifier));
    this.OPTION2(() => this.SUBRULE(this.allowance));
  });

  // `then B on … within D`: the sequence's second condition and its window, right after B.
  // The parts are optional and repeatable here only so that a missing B or window, a chain
  // (`A then B then C`) and filters after the window get a diagnostic of their own from the
  // checker (src/check/sequences.ts) instead of a bare syntax error.
  sequel = this.RULE("sequel", () => {
    this.CONSUME(t.Then);
    this.OPTION(() => {
      this.SUBRULE(this.condition);
      this.OPTION2(() => this.SUBRULE(this.filters));
    });
    this.OPTION3(() => {
      this.CONSUME(t.Within);
      this.SUBRULE(this.value, { LABEL: "window" });
      this.OPTION4(() => this.SUBRULE2(this.filters, { LABEL: "misplaced" }));
    });
  });

  // A condition is a head word, then word groups and strings, then an optional
  // comparison: `syscall futex, epoll_wait latency > 2s`. Which shapes are valid
  // is the condition specs' business (src/check/conditions.ts).
  condition = this.RULE("condition", () => {
    this.CONSUME(t.Identifier, { LABEL: "head" });
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.wordGroup) },
        { ALT: () => this.CONSUME(t.StringLiteral) },
      ]);
    });
    this.OPTION(() => this.SUBRULE(this.comparison));
  });

  wordGroup = this.RULE("wordGroup", () => {
    this.SUBRULE(this.word);
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.SUBRULE2(this.word);
    });
  });

  // `times` is a keyword of `N times within D` and also an x86_64 system call;
  // inside a condition it is a word.
  word = this.RULE("word", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Identifier) }, { ALT: () => this.CONSUME(t.Times) }]);
  });

  // `> D`, or a share of a window of time: `> 20% within 1s` (the `within` is required there,
  // so a sequence's `then B within D` after `> D` stays the sequence's).
  comparison = this.RULE("comparison", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Greater) }, { ALT: () => this.CONSUME(t.GreaterEqual) }]);
    this.OR2([
      { ALT: () => this.SUBRULE(this.value) },
      {
        ALT: () => {
          this.CONSUME(t.Percent);
          this.CONSUME(t.Within);
          this.SUBRULE2(this.value, { LABEL: "window" });
        },
      },
    ]);
  });

  filters = this.RULE("filters", () => {
    this.CONSUME(t.On);
    this.SUBRULE(this.filter);
    this.MANY(() => {
      this.CONSUME(t.And);
      this.SUBRULE2(this.filter);
    });
  });

  filter = this.RULE("filter", () => {
    this.CONSUME(t.Identifier, { LABEL: "attribute" });
    this.SUBRULE(this.value);
  });

  modifier = this.RULE("modifier", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.countModifier) },
      { ALT: () => this.SUBRULE(this.afterModifier) },
      { ALT: () => this.SUBRULE(this.pausesModifier) },
      { ALT: () => this.SUBRULE(this.labelModifier) },
    ]);
  });

  countModifier = this.RULE("countModifier", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Integer) }, { ALT: () => this.CONSUME(t.ParamRef) }]);
    this.CONSUME(t.Times);
    this.CONSUME(t.Within);
    this.SUBRULE(this.value, { LABEL: "window" });
  });

  afterModifier = this.RULE("afterModifier", () => {
    this.CONSUME(t.After);
    this.SUBRULE(this.value);
  });

  // `counting pauses`: the hypervisor's pauses of the whole guest count in the rule's durations.
  pausesModifier = this.RULE("pausesModifier", () => {
    this.CONSUME(t.Counting);
    this.CONSUME(t.Pauses);
  });

  labelModifier = this.RULE("labelModifier", () => {
    this.CONSUME(t.As);
    this.CONSUME(t.StringLiteral);
  });

  // `allow W0004, W0005`: the warnings the rule acknowledges, last in the rule. The
  // codes are names here; the checker knows which are warnings (src/check/allowances.ts).
  allowance = this.RULE("allowance", () => {
    this.CONSUME(t.Allow);
    this.CONSUME(t.Identifier, { LABEL: "code" });
    this.MANY(() => {
      this.CONSUME(t.Comma);
      this.CONSUME2(t.Identifier, { LABEL: "code" });
    });
  });

  value = this.RULE("value", () => {
    this.OR([{ ALT: () => this.SUBRULE(this.literal) }, { ALT: () => this.CONSUME(t.ParamRef) }]);
  });

  literal = this.RULE("literal", () => {
    this.OR([
      { ALT: () => this.CONSUME(t.Duration) },
      { ALT: () => this.SUBRULE(this.number) },
      { ALT: () => this.CONSUME(t.StringLiteral) },
    ]);
  });

  number = this.RULE("number", () => {
    this.OR([{ ALT: () => this.CONSUME(t.Integer) }, { ALT: () => this.CONSUME(t.MalformedNumber) }]);
  });
}

/** The one parser instance: chevrotain parsers are expensive to build and meant to be reused. */
export const parser = new RuleParser();
