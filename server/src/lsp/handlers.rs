//! Converts between lsp-types and the analyzer's plain `ide` results. No analysis here.

use std::collections::HashMap;

use strata_analyzer::db::{self, RootDatabase};
use strata_analyzer::diagnostics::Severity;
use strata_analyzer::ide::{self, FilePos};
use tower_lsp::jsonrpc::{Error, Result};
use tower_lsp::lsp_types::*;

use super::server::{path_to_uri, DocContext, Document};

/// What the server advertises.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_highlight_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: SemanticTokensLegend {
                    token_types: ide::semantic_tokens::TokenKind::ALL
                        .iter()
                        .map(|k| SemanticTokenType::new(k.lsp_name()))
                        .collect(),
                    token_modifiers: ide::semantic_tokens::MODIFIERS
                        .iter()
                        .map(|m| SemanticTokenModifier::new(m))
                        .collect(),
                },
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                ..Default::default()
            },
        )),
        document_link_provider: Some(DocumentLinkOptions {
            resolve_provider: Some(false),
            work_done_progress_options: Default::default(),
        }),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, CodeActionKind::EMPTY]),
            ..Default::default()
        })),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: super::apply::COMMANDS
                .iter()
                .map(|c| c.to_string())
                .collect(),
            work_done_progress_options: Default::default(),
        }),
        ..Default::default()
    }
}

fn file_pos(ctx: &DocContext, db: &RootDatabase, pos: Position) -> Result<FilePos> {
    let text = ctx.file.text(db);
    let offset = ctx
        .map
        .offset(text, pos)
        .ok_or_else(|| Error::invalid_params(format!("position {pos:?} is outside the file")))?;
    Ok(FilePos {
        file: ctx.file,
        offset,
    })
}

fn range(ctx: &DocContext, db: &RootDatabase, r: ide::TextRange) -> Range {
    ctx.map.range(ctx.file.text(db), r)
}

/// Ranges in another file: converted with that file's text when it is loaded.
fn location(
    db: &RootDatabase,
    ctx: &DocContext,
    path: &str,
    r: Option<ide::TextRange>,
) -> Option<Location> {
    if path == ctx.file.path(db) {
        let r = r.map(|r| range(ctx, db, r)).unwrap_or_default();
        return Some(Location::new(ctx.uri.clone(), r));
    }
    let uri = path_to_uri(path)?;
    let lsp_range = match (r, db.file(path)) {
        (Some(r), Some(f)) => {
            let text = f.text(db);
            super::convert::PositionMap::new(text).range(text, r)
        }
        // Not loaded (an option's declaring module): read it for the position.
        (Some(r), None) => match std::fs::read_to_string(path) {
            Ok(text) => super::convert::PositionMap::new(&text).range(&text, r),
            Err(_) => Range::default(),
        },
        _ => Range::default(),
    };
    Some(Location::new(uri, lsp_range))
}

/// Diagnostics of an open document in lsp-types.
pub fn diagnostics(db: &RootDatabase, uri: &Url, doc: &Document) -> Vec<Diagnostic> {
    let mut out = generic_diagnostics(db, uri, doc);
    out.extend(super::flake::diagnostics(db, doc.file, &doc.map));
    out
}

fn generic_diagnostics(db: &RootDatabase, uri: &Url, doc: &Document) -> Vec<Diagnostic> {
    let text = doc.file.text(db);
    db::diagnostics(db, doc.file)
        .iter()
        .map(|d| {
            let mut tags = Vec::new();
            if d.kind.is_unnecessary() {
                tags.push(DiagnosticTag::UNNECESSARY);
            }
            if d.kind.is_deprecated() {
                tags.push(DiagnosticTag::DEPRECATED);
            }
            Diagnostic {
                range: doc.map.range(text, d.range),
                severity: Some(match d.severity() {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                    Severity::Hint => DiagnosticSeverity::HINT,
                }),
                code: Some(NumberOrString::String(d.code().into())),
                source: Some("strata".into()),
                message: d.message.clone(),
                related_information: (!d.related.is_empty()).then(|| {
                    d.related
                        .iter()
                        .map(|(r, msg)| DiagnosticRelatedInformation {
                            location: Location::new(uri.clone(), doc.map.range(text, *r)),
                            message: msg.clone(),
                        })
                        .collect()
                }),
                tags: (!tags.is_empty()).then_some(tags),
                ..Default::default()
            }
        })
        .collect()
}

/// `textDocument/completion`.
pub fn completion(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
) -> Result<Option<CompletionResponse>> {
    let fpos = file_pos(ctx, db, pos)?;
    let flake_items = super::flake::completions(db, fpos);
    let Some(items) = ide::completion::completions(db, fpos) else {
        let any = !flake_items.is_empty();
        return Ok(any.then_some(CompletionResponse::List(CompletionList {
            is_incomplete: false,
            items: flake_items,
        })));
    };
    let items = flake_items
        .into_iter()
        .chain(generic_completion_items(db, ctx, items))
        .collect();
    Ok(Some(CompletionResponse::List(CompletionList {
        is_incomplete: false,
        items,
    })))
}

fn generic_completion_items(
    db: &RootDatabase,
    ctx: &DocContext,
    items: Vec<ide::completion::CompletionItem>,
) -> Vec<CompletionItem> {
    items
        .into_iter()
        .map(|it| CompletionItem {
            label: it.label.clone(),
            kind: Some(match it.kind {
                ide::completion::CompletionKind::LetBinding => CompletionItemKind::VARIABLE,
                ide::completion::CompletionKind::Param => CompletionItemKind::VARIABLE,
                ide::completion::CompletionKind::RecAttr => CompletionItemKind::FIELD,
                ide::completion::CompletionKind::Attr => CompletionItemKind::FIELD,
                ide::completion::CompletionKind::BuiltinFunction => CompletionItemKind::FUNCTION,
                ide::completion::CompletionKind::BuiltinConstant => CompletionItemKind::CONSTANT,
                ide::completion::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
                ide::completion::CompletionKind::Option => CompletionItemKind::PROPERTY,
                ide::completion::CompletionKind::OptionSet => CompletionItemKind::MODULE,
                ide::completion::CompletionKind::OptionValue => CompletionItemKind::VALUE,
            }),
            detail: it.detail,
            documentation: it.documentation.map(|d| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: d,
                })
            }),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                range(ctx, db, it.replace),
                it.label,
            ))),
            ..Default::default()
        })
        .collect()
}

/// `textDocument/hover`.
pub fn hover(db: &RootDatabase, ctx: &DocContext, pos: Position) -> Result<Option<Hover>> {
    let fpos = file_pos(ctx, db, pos)?;
    if let Some(h) = super::flake::hover(db, ctx, fpos) {
        return Ok(Some(h));
    }
    Ok(ide::hover::hover(db, fpos).map(|h| Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(range(ctx, db, h.range)),
    }))
}

/// `textDocument/definition`.
pub fn goto_definition(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
) -> Result<Option<GotoDefinitionResponse>> {
    let fpos = file_pos(ctx, db, pos)?;
    if let Some(location) = super::flake::goto_lock(db, fpos) {
        return Ok(Some(GotoDefinitionResponse::Array(vec![location])));
    }
    let Some(targets) = ide::goto_definition::goto_definition(db, fpos) else {
        return Ok(None);
    };
    let locations: Vec<Location> = targets
        .iter()
        .filter_map(|t| {
            let path = match &t.file {
                ide::NavFile::Same => ctx.file.path(db).clone(),
                ide::NavFile::Path(p) => resolve_on_disk(db, p),
            };
            location(db, ctx, &path, t.range)
        })
        .collect();
    Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
}

/// A path literal's target: a directory means its `default.nix` (checked on disk here).
fn resolve_on_disk(db: &RootDatabase, path: &str) -> String {
    if db.file(path).is_none() && std::path::Path::new(path).is_dir() {
        return format!("{}/default.nix", path.trim_end_matches('/'));
    }
    path.to_string()
}

/// `textDocument/references`.
pub fn references(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
    include_declaration: bool,
) -> Result<Option<Vec<Location>>> {
    let fpos = file_pos(ctx, db, pos)?;
    Ok(
        ide::references::references(db, fpos, include_declaration).map(|rs| {
            rs.into_iter()
                .map(|r| Location::new(ctx.uri.clone(), range(ctx, db, r)))
                .collect()
        }),
    )
}

/// `textDocument/prepareRename`.
pub fn prepare_rename(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
) -> Result<Option<PrepareRenameResponse>> {
    let fpos = file_pos(ctx, db, pos)?;
    match ide::rename::prepare_rename(db, fpos) {
        Ok((r, text)) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: range(ctx, db, r),
            placeholder: text,
        })),
        Err(msg) => Err(Error::invalid_params(msg)),
    }
}

/// `textDocument/rename`.
pub fn rename(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>> {
    let fpos = file_pos(ctx, db, pos)?;
    match ide::rename::rename(db, fpos, new_name) {
        Ok(edits) => Ok(Some(workspace_edit(db, ctx, edits))),
        Err(msg) => Err(Error::invalid_params(msg)),
    }
}

fn workspace_edit(db: &RootDatabase, ctx: &DocContext, edits: Vec<ide::TextEdit>) -> WorkspaceEdit {
    let edits = edits
        .into_iter()
        .map(|e| TextEdit::new(range(ctx, db, e.range), e.new_text))
        .collect();
    WorkspaceEdit {
        changes: Some(HashMap::from([(ctx.uri.clone(), edits)])),
        ..Default::default()
    }
}

/// `textDocument/documentHighlight`.
pub fn document_highlight(
    db: &RootDatabase,
    ctx: &DocContext,
    pos: Position,
) -> Result<Option<Vec<DocumentHighlight>>> {
    let fpos = file_pos(ctx, db, pos)?;
    Ok(ide::highlight::highlight(db, fpos).map(|hs| {
        hs.into_iter()
            .map(|h| DocumentHighlight {
                range: range(ctx, db, h.range),
                kind: Some(if h.is_definition {
                    DocumentHighlightKind::WRITE
                } else {
                    DocumentHighlightKind::READ
                }),
            })
            .collect()
    }))
}

fn symbol_kind(kind: ide::symbols::SymbolKind) -> SymbolKind {
    match kind {
        ide::symbols::SymbolKind::Attr => SymbolKind::FIELD,
        ide::symbols::SymbolKind::AttrSet => SymbolKind::NAMESPACE,
        ide::symbols::SymbolKind::LetBinding => SymbolKind::VARIABLE,
        ide::symbols::SymbolKind::Function => SymbolKind::FUNCTION,
        ide::symbols::SymbolKind::Param => SymbolKind::TYPE_PARAMETER,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be filled in.
fn to_lsp_symbol(db: &RootDatabase, ctx: &DocContext, s: ide::symbols::Symbol) -> DocumentSymbol {
    DocumentSymbol {
        name: if s.name.is_empty() {
            "<empty>".into()
        } else {
            s.name
        },
        detail: s.detail,
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        range: range(ctx, db, s.full_range),
        selection_range: range(ctx, db, s.focus_range),
        // Leaves carry no `children` at all: a 20,000-line file has ~17,000 symbols, and
        // every field costs a map entry in the JSON value the response is built as.
        children: (!s.children.is_empty()).then(|| {
            s.children
                .into_iter()
                .map(|c| to_lsp_symbol(db, ctx, c))
                .collect()
        }),
    }
}

/// `textDocument/documentSymbol` (hierarchical).
pub fn document_symbols(
    db: &RootDatabase,
    ctx: &DocContext,
) -> Result<Option<DocumentSymbolResponse>> {
    let symbols = ide::symbols::document_symbols(db, ctx.file);
    Ok(Some(DocumentSymbolResponse::Nested(
        symbols
            .into_iter()
            .map(|s| to_lsp_symbol(db, ctx, s))
            .collect(),
    )))
}

/// `workspace/symbol` over every loaded file.
#[allow(deprecated)] // `SymbolInformation::deprecated` must still be filled in.
pub fn workspace_symbols(db: &RootDatabase, query: &str) -> Result<Option<Vec<SymbolInformation>>> {
    let mut out = Vec::new();
    for (file, sym) in ide::symbols::workspace_symbols(db, query) {
        let path = file.path(db);
        let Some(uri) = path_to_uri(path) else {
            continue;
        };
        let text = file.text(db);
        let map = super::convert::PositionMap::new(text);
        out.push(SymbolInformation {
            name: sym.name,
            kind: symbol_kind(sym.kind),
            tags: None,
            deprecated: None,
            location: Location::new(uri, map.range(text, sym.focus_range)),
            container_name: sym.container,
        });
    }
    Ok(Some(out))
}

/// `textDocument/selectionRange`.
pub fn selection_ranges(
    db: &RootDatabase,
    ctx: &DocContext,
    positions: &[Position],
) -> Result<Option<Vec<SelectionRange>>> {
    let mut out = Vec::new();
    for pos in positions {
        let fpos = file_pos(ctx, db, *pos)?;
        let ranges = ide::selection_range::selection_ranges(db, fpos);
        let mut acc: Option<SelectionRange> = None;
        for r in ranges.into_iter().rev() {
            acc = Some(SelectionRange {
                range: range(ctx, db, r),
                parent: acc.map(Box::new),
            });
        }
        out.push(acc.unwrap_or(SelectionRange {
            range: Range::new(*pos, *pos),
            parent: None,
        }));
    }
    Ok(Some(out))
}

/// `textDocument/foldingRange`.
pub fn folding_ranges(db: &RootDatabase, ctx: &DocContext) -> Result<Option<Vec<FoldingRange>>> {
    let text = ctx.file.text(db);
    Ok(Some(
        ide::folding::folding_ranges(db, ctx.file)
            .into_iter()
            .filter_map(|f| {
                let r = ctx.map.range(text, f.range);
                (r.end.line > r.start.line).then_some(FoldingRange {
                    start_line: r.start.line,
                    start_character: None,
                    end_line: r.end.line,
                    end_character: None,
                    kind: Some(match f.kind {
                        ide::folding::FoldKind::Comment => FoldingRangeKind::Comment,
                        ide::folding::FoldKind::Region => FoldingRangeKind::Region,
                    }),
                    collapsed_text: None,
                })
            })
            .collect(),
    ))
}

/// `textDocument/semanticTokens/*`, encoded relative to the previous token.
pub fn semantic_tokens(
    db: &RootDatabase,
    ctx: &DocContext,
    lsp_range: Option<Range>,
) -> Result<Vec<SemanticToken>> {
    let text = ctx.file.text(db);
    let restrict = match lsp_range {
        Some(r) => Some(
            ctx.map
                .text_range(text, r)
                .ok_or_else(|| Error::invalid_params("range outside the file"))?,
        ),
        None => None,
    };
    let tokens = ide::semantic_tokens::semantic_tokens(db, ctx.file, restrict);
    let mut out = Vec::with_capacity(tokens.len());
    let (mut prev_line, mut prev_char) = (0, 0);
    for tok in tokens {
        // LSP tokens cannot span lines: emit one per line of a multi-line token.
        let piece_start = tok.range.start();
        let slice = &text[usize::from(tok.range.start())..usize::from(tok.range.end())];
        let mut offset = piece_start;
        for line in slice.split_inclusive('\n') {
            let content = line.trim_end_matches('\n');
            if !content.is_empty() {
                let pos = ctx.map.position(text, offset);
                let delta_line = pos.line - prev_line;
                let delta_start = if delta_line == 0 {
                    pos.character - prev_char
                } else {
                    pos.character
                };
                out.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: content.encode_utf16().count() as u32,
                    token_type: tok.kind as u32,
                    token_modifiers_bitset: tok.modifiers,
                });
                prev_line = pos.line;
                prev_char = pos.character;
            }
            offset += ide::TextSize::of(line);
        }
    }
    Ok(out)
}

/// The edit turning `prev` into `next`: one splice of the differing middle.
pub fn tokens_delta(prev: &[SemanticToken], next: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let prefix = prev.iter().zip(next).take_while(|(a, b)| a == b).count();
    let suffix = prev[prefix..]
        .iter()
        .rev()
        .zip(next[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if prefix == prev.len() && prefix == next.len() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: (prefix * 5) as u32,
        delete_count: ((prev.len() - prefix - suffix) * 5) as u32,
        data: Some(next[prefix..next.len() - suffix].to_vec()),
    }]
}

/// `textDocument/documentLink`.
pub fn document_links(db: &RootDatabase, ctx: &DocContext) -> Result<Option<Vec<DocumentLink>>> {
    let links = ide::links::document_links(db, ctx.file);
    Ok(Some(
        links
            .into_iter()
            .filter_map(|l| {
                let target = match &l.target {
                    ide::links::LinkTarget::File(p) => path_to_uri(&resolve_on_disk(db, p))?,
                    ide::links::LinkTarget::Url(u) => Url::parse(u).ok()?,
                };
                Some(DocumentLink {
                    range: range(ctx, db, l.range),
                    target: Some(target),
                    tooltip: l.tooltip,
                    data: None,
                })
            })
            .collect(),
    ))
}

/// `textDocument/inlayHint`.
pub fn inlay_hints(
    db: &RootDatabase,
    ctx: &DocContext,
    lsp_range: Range,
    locked_revisions: bool,
) -> Result<Option<Vec<InlayHint>>> {
    let text = ctx.file.text(db);
    let restrict = ctx.map.text_range(text, lsp_range);
    let mut hints = generic_inlay_hints(db, ctx, restrict);
    if locked_revisions {
        hints.extend(super::flake::inlay_hints(db, ctx, restrict));
    }
    Ok(Some(hints))
}

fn generic_inlay_hints(
    db: &RootDatabase,
    ctx: &DocContext,
    restrict: Option<ide::TextRange>,
) -> Vec<InlayHint> {
    let text = ctx.file.text(db);
    ide::inlay_hints::inlay_hints(db, ctx.file, restrict)
        .into_iter()
        .map(|h| InlayHint {
            position: ctx.map.position(text, h.offset),
            label: InlayHintLabel::String(h.label),
            kind: None,
            text_edits: None,
            tooltip: None,
            padding_left: Some(true),
            padding_right: None,
            data: None,
        })
        .collect()
}

/// `textDocument/codeAction`: quick fixes for the diagnostics in the range.
pub fn code_actions(
    db: &RootDatabase,
    ctx: &DocContext,
    lsp_range: Range,
) -> Result<Option<CodeActionResponse>> {
    let text = ctx.file.text(db);
    let r = ctx
        .map
        .text_range(text, lsp_range)
        .ok_or_else(|| Error::invalid_params("range outside the file"))?;
    let actions = ide::code_actions::code_actions(db, ctx.file, r);
    Ok(Some(
        actions
            .into_iter()
            .map(|a| {
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: a.title,
                    kind: Some(CodeActionKind::QUICKFIX),
                    edit: Some(workspace_edit(db, ctx, a.edits)),
                    is_preferred: Some(a.preferred),
                    ..Default::default()
                })
            })
            .collect(),
    ))
}
