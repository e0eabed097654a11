import type { CstNode, ICstVisitor, IToken } from "chevrotain";

export interface FileCstNode extends CstNode {
  name: "file";
  children: FileCstChildren;
}

export type FileCstChildren = {
  item?: ItemCstNode[];
};

export interface ItemCstNode extends CstNode {
  name: "item";
  children: ItemCstChildren;
}

export type ItemCstChildren = {
  caseDecl?: CaseDeclCstNode[];
  titleDecl?: TitleDeclCstNode[];
  channelDecl?: ChannelDeclCstNode[];
  paramDecl?: ParamDeclCstNode[];
  rule?: RuleCstNode[];
};

export interface CaseDeclCstNode extends CstNode {
  name: "caseDecl";
  children: CaseDeclCstChildren;
}

export type CaseDeclCstChildren = {
  Case: IToken[];
  StringLiteral: IToken[];
};

export interface TitleDeclCstNode extends CstNode {
  name: "titleDecl";
  children: TitleDeclCstChildren;
}

export type TitleDeclCstChildren = {
  Title: IToken[];
  StringLiteral: IToken[];
};

export interface ChannelDeclCstNode extends CstNode {
  name: "channelDecl";
  children: ChannelDeclCstChildren;
}

export type ChannelDeclCstChildren = {
  Channel: IToken[];
  Port: IToken[];
  port: NumberCstNode[];
  Value: IToken[];
  value: NumberCstNode[];
};

export interface ParamDeclCstNode extends CstNode {
  name: "paramDecl";
  children: ParamDeclCstChildren;
}

export type ParamDeclCstChildren = {
  Param: IToken[];
  name: IToken[];
  Colon: IToken[];
  type: IToken[];
  Equals?: IToken[];
  default?: LiteralCstNode[];
};

export interface RuleCstNode extends CstNode {
  name: "rule";
  children: RuleCstChildren;
}

export type RuleCstChildren = {
  When: IToken[];
  condition: ConditionCstNode[];
  filters?: FiltersCstNode[];
  sequel?: SequelCstNode[];
  modifier?: ModifierCstNode[];
  allowance?: AllowanceCstNode[];
};

export interface SequelCstNode extends CstNode {
  name: "sequel";
  children: SequelCstChildren;
}

export type SequelCstChildren = {
  Then: IToken[];
  condition?: ConditionCstNode[];
  filters?: FiltersCstNode[];
  Within?: IToken[];
  window?: ValueCstNode[];
  misplaced?: FiltersCstNode[];
};

export interface ConditionCstNode extends CstNode {
  name: "condition";
  children: ConditionCstChildren;
}

export type ConditionCstChildren = {
  head: IToken[];
  wordGroup?: WordGroupCstNode[];
  StringLiteral?: IToken[];
  comparison?: ComparisonCstNode[];
};

export interface WordGroupCstNode extends CstNode {
  name: "wordGroup";
  children: WordGroupCstChildren;
}

export type WordGroupCstChildren = {
  word: (WordCstNode)[];
  Comma?: IToken[];
};

export interface WordCstNode extends CstNode {
  name: "word";
  children: WordCstChildren;
}

export type WordCstChildren = {
  Identifier?: IToken[];
  Times?: IToken[];
};

export interface ComparisonCstNode extends CstNode {
  name: "comparison";
  children: ComparisonCstChildren;
}

export type ComparisonCstChildren = {
  Greater?: IToken[];
  GreaterEqual?: IToken[];
  value?: ValueCstNode[];
  Percent?: IToken[];
  Within?: IToken[];
  window?: ValueCstNode[];
};

export interface FiltersCstNode extends CstNode {
  name: "filters";
  children: FiltersCstChildren;
}

export type FiltersCstChildren = {
  On: IToken[];
  filter: (FilterCstNode)[];
  And?: IToken[];
};

export interface FilterCstNode extends CstNode {
  name: "filter";
  children: FilterCstChildren;
}

export type FilterCstChildren = {
  attribute: IToken[];
  value: ValueCstNode[];
};

export interface ModifierCstNode extends CstNode {
  name: "modifier";
  children: ModifierCstChildren;
}

export type ModifierCstChildren = {
  countModifier?: CountModifierCstNode[];
  afterModifier?: AfterModifierCstNode[];
  pausesModifier?: PausesModifierCstNode[];
  labelModifier?: LabelModifierCstNode[];
};

export interface CountModifierCstNode extends CstNode {
  name: "countModifier";
  children: CountModifierCstChildren;
}

export type CountModifierCstChildren = {
  Integer?: IToken[];
  ParamRef?: IToken[];
  Times: IToken[];
  Within: IToken[];
  window: ValueCstNode[];
};

export interface AfterModifierCstNode extends CstNode {
  name: "afterModifier";
  children: AfterModifierCstChildren;
}

export type AfterModifierCstChildren = {
  After: IToken[];
  value: ValueCstNode[];
};

export interface PausesModifierCstNode extends CstNode {
  name: "pausesModifier";
  children: PausesModifierCstChildren;
}

export type PausesModifierCstChildren = {
  Counting: IToken[];
  Pauses: IToken[];
};

export interface LabelModifierCstNode extends CstNode {
  name: "labelModifier";
  children: LabelModifierCstChildren;
}

export type LabelModifierCstChildren = {
  As: IToken[];
  StringLiteral: IToken[];
};

export interface AllowanceCstNode extends CstNode {
  name: "allowance";
  children: AllowanceCstChildren;
}

export type AllowanceCstChildren = {
  Allow: IToken[];
  code: (IToken)[];
  Comma?: IToken[];
};

export interface ValueCstNode extends CstNode {
  name: "value";
  children: ValueCstChildren;
}

export type ValueCstChildren = {
  literal?: LiteralCstNode[];
  ParamRef?: IToken[];
};

export interface LiteralCstNode extends CstNode {
  name: "literal";
  children: LiteralCstChildren;
}

export type LiteralCstChildren = {
  Duration?: IToken[];
  number?: NumberCstNode[];
  StringLiteral?: IToken[];
};

export interface NumberCstNode extends CstNode {
  name: "number";
  children: NumberCstChildren;
}

export type NumberCstChildren = {
  Integer?: IToken[];
  MalformedNumber?: IToken[];
};

export interface ICstNodeVisitor<IN, OUT> extends ICstVisitor<IN, OUT> {
  file(children: FileCstChildren, param?: IN): OUT;
  item(children: ItemCstChildren, param?: IN): OUT;
  caseDecl(children: CaseDeclCstChildren, param?: IN): OUT;
  titleDecl(children: TitleDeclCstChildren, param?: IN): OUT;
  channelDecl(children: ChannelDeclCstChildren, param?: IN): OUT;
  paramDecl(children: ParamDeclCstChildren, param?: IN): OUT;
  rule(children: RuleCstChildren, param?: IN): OUT;
  sequel(children: SequelCstChildren, param?: IN): OUT;
  condition(children: ConditionCstChildren, param?: IN): OUT;
  wordGroup(children: WordGroupCstChildren, param?: IN): OUT;
  word(children: WordCstChildren, param?: IN): OUT;
  comparison(children: ComparisonCstChildren, param?: IN): OUT;
  filters(children: FiltersCstChildren, param?: IN): OUT;
  filter(children: FilterCstChildren, param?: IN): OUT;
  modifier(children: ModifierCstChildren, param?: IN): OUT;
  countModifier(children: CountModifierCstChildren, param?: IN): OUT;
  afterModifier(children: AfterModifierCstChildren, param?: IN): OUT;
  pausesModifier(children: PausesModifierCstChildren, param?: IN): OUT;
  labelModifier(children: LabelModifierCstChildren, param?: IN): OUT;
  allowance(children: AllowanceCstChildren, param?: IN): OUT;
  value(children: ValueCstChildren, param?: IN): OUT;
  literal(children: LiteralCstChildren, param?: IN): OUT;
  number(children: NumberCstChildren, param?: IN): OUT;
}
