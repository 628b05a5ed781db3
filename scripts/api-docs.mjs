// Writes docs/api.md, the API reference, from the export list of src/index.ts and the TSDoc on
// each export. Usage: node scripts/api-docs.mjs [output path]  (default docs/api.md).
// Exports without a TSDoc summary are listed on stderr, one per line, prefixed "missing summary:".
import ts from 'typescript';
import { writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = resolve(ROOT, 'src/index.ts');

function loadProgram() {
  const configPath = resolve(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  // Only the public entry as root: test/ and bench/ would triple the work for nothing.
  const program = ts.createProgram([ENTRY], { ...options, noEmit: true });
  return { program, checker: program.getTypeChecker() };
}

// Section headings come from the line comments above groups of exports in src/index.ts; a
// parenthetical there is a note to maintainers, not part of the title.
function sectionTitle(statement, file) {
  const ranges = ts.getLeadingCommentRanges(file.text, statement.getFullStart()) ?? [];
  const lines = ranges.map((r) => file.text.slice(r.pos, r.end)).filter((c) => c.startsWith('//'));
  if (lines.length === 0) return undefined;
  const text = lines
    .at(-1)
    .replace(/^\/\/\s*/, '')
    .replace(/\s*\([^)]*\)/g, '')
    .replace(/\.$/, '')
    .trim();
  return text.startsWith("kiln's public API") ? undefined : text;
}

function moduleFile(program, checker, declaration) {
  const symbol = checker.getSymbolAtLocation(declaration.moduleSpecifier);
  const source = symbol?.valueDeclaration;
  if (!source || !ts.isSourceFile(source)) throw new Error(`api-docs: cannot resolve ${declaration.moduleSpecifier.getText()}`);
  return program.getSourceFile(source.fileName);
}

// Every export of `file` in source order: { name, symbol (the original), section }. Sections come
// from the entry file only; a module re-exported whole stays under the heading that re-exports it.
function collectExports(program, checker, file, section, out, entry = true) {
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    if (entry) section = sectionTitle(statement, file) ?? section;
    if (!statement.exportClause) {
      collectExports(program, checker, moduleFile(program, checker, statement), section, out, false);
      continue;
    }
    if (!ts.isNamedExports(statement.exportClause)) throw new Error('api-docs: namespace exports are not supported');
    for (const spec of statement.exportClause.elements) {
      let symbol = checker.getSymbolAtLocation(spec.name);
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      out.push({ name: spec.name.text, symbol, section });
    }
  }
  return out;
}

const FORMAT =
  ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope | ts.TypeFormatFlags.WriteArrowStyleSignature;

function isInternal(node) {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal');
}

function docOf(symbol, checker) {
  const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const examples = symbol
    .getJsDocTags(checker)
    .filter((t) => t.name === 'example')
    .map((t) => ts.displayPartsToString(t.text ?? []).trim())
    .filter(Boolean);
  return { summary, examples };
}

function kindOf(symbol) {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) {
    const decl = symbol.valueDeclaration;
    return decl && ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const ? 'const' : 'let';
  }
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  return 'unknown';
}

// Declaration text without the `export` keyword and its own TSDoc, re-indented to column 0.
function declarationText(node, file) {
  let text = node.getText(file).replace(/^export\s+(declare\s+)?/, '');
  const indent = Math.min(
    ...text
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => l.match(/^ */)[0].length),
  );
  if (Number.isFinite(indent) && indent > 2)
    text = text
      .split('\n')
      .map((l, i) => (i === 0 ? l : l.slice(indent - 2)))
      .join('\n');
  return text;
}

function callSignatures(name, symbol, checker, prefix) {
  const decl = symbol.valueDeclaration ?? symbol.declarations[0];
  const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
  return type
    .getCallSignatures()
    .map((sig) => `${prefix}${name}${checker.signatureToString(sig, decl, FORMAT & ~ts.TypeFormatFlags.WriteArrowStyleSignature)}`);
}

function signatureOf(name, symbol, kind, checker, file) {
  const decl = symbol.valueDeclaration ?? symbol.declarations[0];
  if (kind === 'function') return callSignatures(name, symbol, checker, 'function ').join('\n');
  if (kind === 'const' || kind === 'let') {
    const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
    return `${kind} ${name}: ${checker.typeToString(type, decl, FORMAT)}`;
  }
  if (kind === 'class') {
    const heritage = (decl.heritageClauses ?? []).map((h) => ' ' + h.getText(file)).join('');
    const params = decl.typeParameters ? `<${decl.typeParameters.map((p) => p.getText(file)).join(', ')}>` : '';
    const abstract = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract ? 'abstract ' : '';
    return `${abstract}class ${name}${params}${heritage}`;
  }
  // Interfaces and type aliases read best as written, member comments included.
  const text = symbol.declarations.map((d) => declarationText(d, d.getSourceFile())).join('\n\n');
  return name === symbol.name ? text : text.replace(new RegExp(`^(interface|type) ${symbol.name}\\b`), `$1 ${name}`);
}

function isPublicMember(member) {
  if (!member.name || ts.isPrivateIdentifier(member.name)) return false;
  const flags = ts.getCombinedModifierFlags(member);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  return !isInternal(member);
}

function memberSignature(member, checker, file) {
  const flags = ts.getCombinedModifierFlags(member);
  const isStatic = flags & ts.ModifierFlags.Static ? 'static ' : '';
  if (ts.isConstructorDeclaration(member)) {
    const sig = checker.getSignatureFromDeclaration(member);
    const text = checker.signatureToString(sig, member, FORMAT & ~ts.TypeFormatFlags.WriteArrowStyleSignature);
    return `constructor${text.replace(/: [^:]+$/, '')}`;
  }
  const name = member.name.getText(file);
  const symbol = checker.getSymbolAtLocation(member.name);
  if (ts.isMethodDeclaration(member)) {
    const sigs = checker.getTypeOfSymbolAtLocation(symbol, member).getCallSignatures();
    return sigs
      .map((s) => `${isStatic}${name}${checker.signatureToString(s, member, FORMAT & ~ts.TypeFormatFlags.WriteArrowStyleSignature)}`)
      .join('\n');
  }
  const type = checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, member), member, FORMAT);
  if (ts.isGetAccessorDeclaration(member)) {
    const setter = symbol.declarations.some(ts.isSetAccessorDeclaration);
    return `${isStatic}${setter ? '' : 'readonly '}${name}: ${type}`;
  }
  const readonly = flags & ts.ModifierFlags.Readonly ? 'readonly ' : '';
  const optional = member.questionToken ? '?' : '';
  return `${isStatic}${readonly}${name}${optional}: ${type}`;
}

function classMembers(symbol, checker) {
  const decl = symbol.valueDeclaration;
  const file = decl.getSourceFile();
  const seen = new Set();
  const members = [];
  for (const member of decl.members) {
    if (ts.isClassStaticBlockDeclaration(member) || ts.isIndexSignatureDeclaration(member) || ts.isSemicolonClassElement(member)) continue;
    if (ts.isConstructorDeclaration(member)) {
      if (
        !member.body ||
        ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) ||
        isInternal(member)
      )
        continue;
    } else if (!isPublicMember(member)) continue;
    if (ts.isSetAccessorDeclaration(member)) continue;
    // Overloads share one symbol: list its signatures once.
    const key = ts.isConstructorDeclaration(member)
      ? 'constructor'
      : `${ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Static ? 'static ' : ''}${member.name.getText(file)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const memberSymbol = ts.isConstructorDeclaration(member) ? undefined : checker.getSymbolAtLocation(member.name);
    const summary = memberSymbol
      ? docOf(memberSymbol, checker)
      : {
          summary: ts.displayPartsToString(checker.getSignatureFromDeclaration(member).getDocumentationComment(checker)).trim(),
          examples: [],
        };
    members.push({ signature: memberSignature(member, checker, file), ...summary });
  }
  return members;
}

const fence = (code) => `\`\`\`ts\n${code}\n\`\`\``;
const exampleBlock = (text) => (text.includes('```') ? text : fence(text));
const anchor = (text) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

export function buildApiDocs() {
  const { program, checker } = loadProgram();
  const entries = collectExports(program, checker, program.getSourceFile(ENTRY), 'Other', []);
  const sections = new Map();
  const missing = [];
  for (const entry of entries) {
    const { name, symbol } = entry;
    const kind = kindOf(symbol);
    const decl = symbol.valueDeclaration ?? symbol.declarations[0];
    const file = decl.getSourceFile();
    const source = relative(ROOT, file.fileName).split('\\').join('/');
    const doc = docOf(symbol, checker);
    if (!doc.summary) missing.push(`${name} (${source})`);
    const item = {
      name,
      kind,
      source,
      ...doc,
      original: name === symbol.name ? undefined : symbol.name,
      signature: signatureOf(name, symbol, kind, checker, file),
      members: kind === 'class' ? classMembers(symbol, checker) : [],
    };
    if (!sections.has(entry.section)) sections.set(entry.section, []);
    sections.get(entry.section).push(item);
  }

  const out = [
    '# kiln API reference',
    '',
    'Generated by `npm run docs` (scripts/api-docs.mjs) from the exports of `src/index.ts` and their TSDoc; do not edit by hand.',
    '',
  ];
  for (const [title, items] of sections) out.push(`- [${title}](#${anchor(title)}) (${items.length})`);
  out.push('');
  for (const [title, items] of sections) {
    out.push(`## ${title}`, '');
    for (const item of items) {
      const alias = item.original ? `, \`${item.original}\` there` : '';
      out.push(`### \`${item.name}\``, '', `*${item.kind}* · \`${item.source}\`${alias}`, '', fence(item.signature), '');
      if (item.summary) out.push(item.summary, '');
      for (const example of item.examples) out.push('Example:', '', exampleBlock(example), '');
      if (item.members.length > 0) {
        out.push('Members:', '');
        for (const m of item.members) {
          out.push(`- \`${m.signature.split('\n').join('` · `')}\``);
          if (m.summary) out.push(`  ${m.summary.split('\n').join('\n  ')}`);
          for (const example of m.examples) out.push('', `  ${exampleBlock(example).split('\n').join('\n  ')}`, '');
        }
        out.push('');
      }
    }
  }
  const markdown = out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n*$/, '\n');
  return { markdown, missing, count: entries.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const target = resolve(process.argv[2] ?? resolve(ROOT, 'docs/api.md'));
  const { markdown, missing, count } = buildApiDocs();
  writeFileSync(target, markdown);
  for (const m of missing) console.error(`missing summary: ${m}`);
  console.log(
    `api-docs: ${count} exports -> ${relative(process.cwd(), target) || target} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
