//! Diagnostics: what the analyzer reports about a file, each kind with a stable code.

use rowan::TextRange;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// Nix refuses the file.
    Error,
    /// Legal but almost surely a mistake.
    Warning,
    /// Style or cleanup suggestion.
    Hint,
}

/// The kinds of diagnostics; `code()` is what users put in `diagnostics.ignored`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticKind {
    /// The parser rejected the text.
    SyntaxError,
    /// An attribute defined more than once (Nix rejects the file).
    DuplicateAttr,
    /// A variable that no binding, `with` or builtin can supply.
    UndefinedName,
    /// A `let` binding nothing reads.
    UnusedBinding,
    /// A formal of a `{ … }:` pattern nothing reads.
    UnusedFormal,
    /// A lambda parameter or `@` name nothing reads.
    UnusedParam,
    /// A `with` that no variable lookup needs.
    UnusedWith,
    /// A `rec { }` whose attributes never refer to each other.
    UselessRec,
    /// `let in e`.
    EmptyLet,
    /// `inherit;` or `inherit (e);`.
    EmptyInherit,
    /// The legacy `let { … body = …; }` form.
    LegacyLet,
    /// An unquoted URI literal (deprecated in Nix).
    UriLiteral,
    /// `or` used as a variable or attribute name.
    OrIdentifier,
}

impl DiagnosticKind {
    /// Every kind, for documentation and settings validation.
    pub const ALL: &'static [DiagnosticKind] = &[
        DiagnosticKind::SyntaxError,
        DiagnosticKind::DuplicateAttr,
        DiagnosticKind::UndefinedName,
        DiagnosticKind::UnusedBinding,
        DiagnosticKind::UnusedFormal,
        DiagnosticKind::UnusedParam,
        DiagnosticKind::UnusedWith,
        DiagnosticKind::UselessRec,
        DiagnosticKind::EmptyLet,
        DiagnosticKind::EmptyInherit,
        DiagnosticKind::LegacyLet,
        DiagnosticKind::UriLiteral,
        DiagnosticKind::OrIdentifier,
    ];

    /// The stable code shown to users and matched by `diagnostics.ignored`.
    pub fn code(self) -> &'static str {
        match self {
            DiagnosticKind::SyntaxError => "syntax-error",
            DiagnosticKind::DuplicateAttr => "duplicate-attr",
            DiagnosticKind::UndefinedName => "undefined-name",
            DiagnosticKind::UnusedBinding => "unused-binding",
            DiagnosticKind::UnusedFormal => "unused-formal",
            DiagnosticKind::UnusedParam => "unused-param",
            DiagnosticKind::UnusedWith => "unused-with",
            DiagnosticKind::UselessRec => "useless-rec",
            DiagnosticKind::EmptyLet => "empty-let",
            DiagnosticKind::EmptyInherit => "empty-inherit",
            DiagnosticKind::LegacyLet => "legacy-let",
            DiagnosticKind::UriLiteral => "uri-literal",
            DiagnosticKind::OrIdentifier => "or-identifier",
        }
    }

    /// The severity of this kind.
    pub fn severity(self) -> Severity {
        match self {
            DiagnosticKind::SyntaxError
            | DiagnosticKind::DuplicateAttr
            | DiagnosticKind::UndefinedName => Severity::Error,
            DiagnosticKind::UnusedBinding
            | DiagnosticKind::UnusedFormal
            | DiagnosticKind::UnusedParam
            | DiagnosticKind::UnusedWith
            | DiagnosticKind::LegacyLet
            | DiagnosticKind::UriLiteral
            | DiagnosticKind::OrIdentifier => Severity::Warning,
            DiagnosticKind::UselessRec
            | DiagnosticKind::EmptyLet
            | DiagnosticKind::EmptyInherit => Severity::Hint,
        }
    }

    /// Code that can be deleted without changing meaning (editors fade it).
    pub fn is_unnecessary(self) -> bool {
        matches!(
            self,
            DiagnosticKind::UnusedBinding
                | DiagnosticKind::UnusedFormal
                | DiagnosticKind::UnusedParam
                | DiagnosticKind::UnusedWith
                | DiagnosticKind::UselessRec
                | DiagnosticKind::EmptyLet
                | DiagnosticKind::EmptyInherit
        )
    }

    /// Syntax that Nix deprecates (editors strike it through).
    pub fn is_deprecated(self) -> bool {
        matches!(
            self,
            DiagnosticKind::LegacyLet | DiagnosticKind::UriLiteral | DiagnosticKind::OrIdentifier
        )
    }

    /// The kind with this code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// One diagnostic in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where it applies.
    pub range: TextRange,
    /// What it is.
    pub kind: DiagnosticKind,
    /// What to tell the user.
    pub message: String,
    /// Other places that explain it (e.g. the first definition of a duplicate).
    pub related: Vec<(TextRange, String)>,
}

impl Diagnostic {
    /// A diagnostic without related locations.
    pub fn new(range: TextRange, kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic {
            range,
            kind,
            message: message.into(),
            related: Vec::new(),
        }
    }
    /// The severity of its kind.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
    /// The stable code of its kind.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}
