//! Built-in functions of the option interpreter: Nix builtins and the parts of nixpkgs'
//! `lib` (option constructors, types, list/set/string helpers, rename modules) that
//! option declarations use. Semantics follow Nix and nixpkgs; what cannot be known
//! statically answers [`Value::Unknown`].

use std::collections::BTreeMap;
use std::rc::Rc;

use super::eval::{Attrs, Class, Entry, Evaluator, Pos, PrimApp, SubOptions, ThunkId, Type, Value};
use super::schema::{Segment, TypeShape};

macro_rules! prims {
    ($($variant:ident = $name:literal / $arity:literal),* $(,)?) => {
        /// A built-in function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Prim { $($variant),* }
        impl Prim {
            /// How many arguments it takes before it computes.
            pub fn arity(self) -> usize {
                match self { $(Prim::$variant => $arity),* }
            }
            /// Its name (the attribute it is found under).
            pub fn name(self) -> &'static str {
                match self { $(Prim::$variant => $name),* }
            }
        }
    };
}

prims! {
    // builtins
    Import = "import" / 1, Map = "map" / 2, ToString = "toString" / 1, Throw = "throw" / 1,
    Abort = "abort" / 1, IsNull = "isNull" / 1, RemoveAttrs = "removeAttrs" / 2,
    BaseNameOf = "baseNameOf" / 1, DirOf = "dirOf" / 1, AttrNames = "attrNames" / 1,
    AttrValues = "attrValues" / 1, HasAttr = "hasAttr" / 2, GetAttr = "getAttr" / 2,
    ListToAttrs = "listToAttrs" / 1, MapAttrs = "mapAttrs" / 2, Filter = "filter" / 2,
    Elem = "elem" / 2, Length = "length" / 1, Head = "head" / 1, Tail = "tail" / 1,
    ElemAt = "elemAt" / 2, ConcatLists = "concatLists" / 1, ConcatMap = "concatMap" / 2,
    FoldlStrict = "foldl'" / 3, GenList = "genList" / 2, IsAttrs = "isAttrs" / 1,
    IsList = "isList" / 1, IsString = "isString" / 1, IsBool = "isBool" / 1,
    IsInt = "isInt" / 1, IsFunction = "isFunction" / 1, IsPath = "isPath" / 1,
    IsFloat = "isFloat" / 1, TypeOf = "typeOf" / 1, ReadDir = "readDir" / 1,
    PathExists = "pathExists" / 1, ReadFile = "readFile" / 1,
    ConcatStringsSep = "concatStringsSep" / 2, ReplaceStrings = "replaceStrings" / 3,
    Substring = "substring" / 3, StringLength = "stringLength" / 1, Trace = "trace" / 2,
    Seq = "seq" / 2, IntersectAttrs = "intersectAttrs" / 2, FunctionArgs = "functionArgs" / 1,
    CatAttrs = "catAttrs" / 2, Any = "any" / 2, All = "all" / 2, Sort = "sort" / 2,
    TryEval = "tryEval" / 1, Unknown1 = "unknown" / 1, Unknown2 = "unknown2" / 2,
    Add = "add" / 2, LessThan = "lessThan" / 2, ToJson = "toJSON" / 1,
    // lib: options
    MkOption = "mkOption" / 1, MkEnableOption = "mkEnableOption" / 1,
    MkPackageOption = "mkPackageOption" / 3, MkSinkUndeclaredOptions = "mkSinkUndeclaredOptions" / 1,
    LiteralExpression = "literalExpression" / 1, LiteralMd = "literalMD" / 1, Id = "id" / 1,
    MkIf = "mkIf" / 2, MkMerge = "mkMerge" / 1, MkOverride = "mkOverride" / 2,
    Const = "const" / 2, Flip = "flip" / 3, Pipe = "pipe" / 2,
    MkOptionType = "mkOptionType" / 1, ShowOption = "showOption" / 1, IsOption = "isOption" / 1,
    // lib: renames
    MkRenamedOptionModule = "mkRenamedOptionModule" / 2,
    MkRenamedOptionModuleWith = "mkRenamedOptionModuleWith" / 1,
    MkAliasOptionModule = "mkAliasOptionModule" / 2,
    MkRemovedOptionModule = "mkRemovedOptionModule" / 2,
    MkChangedOptionModule = "mkChangedOptionModule" / 3,
    MkMergedOptionModule = "mkMergedOptionModule" / 3, ImportApply = "importApply" / 2,
    // lib: sets and lists
    OptionalAttrs = "optionalAttrs" / 2, Optional = "optional" / 2, Optionals = "optionals" / 2,
    OptionalString = "optionalString" / 2, GenAttrs = "genAttrs" / 2,
    MapAttrsPrime = "mapAttrs'" / 2, MapAttrsToList = "mapAttrsToList" / 2,
    ConcatMapAttrs = "concatMapAttrs" / 2, NameValuePair = "nameValuePair" / 2,
    FilterAttrs = "filterAttrs" / 2, Flatten = "flatten" / 1, Foldr = "foldr" / 3,
    RecursiveUpdate = "recursiveUpdate" / 2, MergeAttrsList = "mergeAttrsList" / 1,
    SetAttrByPath = "setAttrByPath" / 2, AttrByPath = "attrByPath" / 3,
    GetAttrFromPath = "getAttrFromPath" / 2, HasAttrByPath = "hasAttrByPath" / 2,
    Last = "last" / 1, Range = "range" / 2, Imap0 = "imap0" / 2, Imap1 = "imap1" / 2,
    Unique = "unique" / 1, ToList = "toList" / 1, ConcatMapStringsSep = "concatMapStringsSep" / 3,
    ConcatMapStrings = "concatMapStrings" / 2, ConcatStrings = "concatStrings" / 1,
    ToUpper = "toUpper" / 1, ToLower = "toLower" / 1, HasPrefix = "hasPrefix" / 2,
    HasSuffix = "hasSuffix" / 2, HasInfix = "hasInfix" / 2, RemovePrefix = "removePrefix" / 2,
    RemoveSuffix = "removeSuffix" / 2, SplitString = "splitString" / 2,
    ToSentenceCase = "toSentenceCase" / 1, BoolToString = "boolToString" / 1,
    VersionAtLeast = "versionAtLeast" / 2, VersionOlder = "versionOlder" / 2,
    PathAppend = "append" / 2, ZipAttrsWith = "zipAttrsWith" / 2, Remove = "remove" / 2,
    // lib.types
    ListOf = "listOf" / 1, NonEmptyListOf = "nonEmptyListOf" / 1, AttrsOf = "attrsOf" / 1,
    LazyAttrsOf = "lazyAttrsOf" / 1, AttrsWith = "attrsWith" / 1, NullOr = "nullOr" / 1,
    Enum = "enum" / 1, Either = "either" / 2, OneOf = "oneOf" / 1, Submodule = "submodule" / 1,
    SubmoduleWith = "submoduleWith" / 1, FunctionTo = "functionTo" / 1, CoercedTo = "coercedTo" / 3,
    Uniq = "uniq" / 1, UniqueType = "unique" / 2, AddCheck = "addCheck" / 2,
    PassAlong = "passwdEntry" / 1, StrMatching = "strMatching" / 1,
    SeparatedString = "separatedString" / 1, IntsBetween = "between" / 2,
    NumbersBetween = "numbersBetween" / 2, PathWith = "pathWith" / 1,
    DeferredModuleWith = "deferredModuleWith" / 1, AttrTag = "attrTag" / 1,
    GetSubOptions = "getSubOptions" / 2, Format = "format" / 2,
}

/// Builtins also bound as plain variables.
pub(crate) const GLOBAL_BUILTINS: &[&str] = &[
    "import",
    "map",
    "toString",
    "throw",
    "abort",
    "isNull",
    "removeAttrs",
    "baseNameOf",
    "dirOf",
];

const BUILTINS: &[Prim] = &[
    Prim::Import,
    Prim::Map,
    Prim::ToString,
    Prim::Throw,
    Prim::Abort,
    Prim::IsNull,
    Prim::RemoveAttrs,
    Prim::BaseNameOf,
    Prim::DirOf,
    Prim::AttrNames,
    Prim::AttrValues,
    Prim::HasAttr,
    Prim::GetAttr,
    Prim::ListToAttrs,
    Prim::MapAttrs,
    Prim::Filter,
    Prim::Elem,
    Prim::Length,
    Prim::Head,
    Prim::Tail,
    Prim::ElemAt,
    Prim::ConcatLists,
    Prim::ConcatMap,
    Prim::FoldlStrict,
    Prim::GenList,
    Prim::IsAttrs,
    Prim::IsList,
    Prim::IsString,
    Prim::IsBool,
    Prim::IsInt,
    Prim::IsFunction,
    Prim::IsPath,
    Prim::IsFloat,
    Prim::TypeOf,
    Prim::ReadDir,
    Prim::PathExists,
    Prim::ReadFile,
    Prim::ConcatStringsSep,
    Prim::ReplaceStrings,
    Prim::Substring,
    Prim::StringLength,
    Prim::Trace,
    Prim::Seq,
    Prim::IntersectAttrs,
    Prim::FunctionArgs,
    Prim::CatAttrs,
    Prim::Any,
    Prim::All,
    Prim::Sort,
    Prim::TryEval,
    Prim::Add,
    Prim::LessThan,
    Prim::ToJson,
];

const LIB: &[Prim] = &[
    Prim::MkOption,
    Prim::MkEnableOption,
    Prim::MkPackageOption,
    Prim::MkSinkUndeclaredOptions,
    Prim::LiteralExpression,
    Prim::LiteralMd,
    Prim::Id,
    Prim::MkIf,
    Prim::MkMerge,
    Prim::MkOverride,
    Prim::Const,
    Prim::Flip,
    Prim::Pipe,
    Prim::MkOptionType,
    Prim::ShowOption,
    Prim::IsOption,
    Prim::MkRenamedOptionModule,
    Prim::MkRenamedOptionModuleWith,
    Prim::MkAliasOptionModule,
    Prim::MkRemovedOptionModule,
    Prim::MkChangedOptionModule,
    Prim::MkMergedOptionModule,
    Prim::ImportApply,
    Prim::OptionalAttrs,
    Prim::Optional,
    Prim::Optionals,
    Prim::OptionalString,
    Prim::GenAttrs,
    Prim::MapAttrsPrime,
    Prim::MapAttrsToList,
    Prim::ConcatMapAttrs,
    Prim::NameValuePair,
    Prim::FilterAttrs,
    Prim::Flatten,
    Prim::Foldr,
    Prim::RecursiveUpdate,
    Prim::MergeAttrsList,
    Prim::SetAttrByPath,
    Prim::AttrByPath,
    Prim::GetAttrFromPath,
    Prim::HasAttrByPath,
    Prim::Last,
    Prim::Range,
    Prim::Imap0,
    Prim::Imap1,
    Prim::Unique,
    Prim::ToList,
    Prim::ConcatMapStringsSep,
    Prim::ConcatMapStrings,
    Prim::ConcatStrings,
    Prim::ToUpper,
    Prim::ToLower,
    Prim::HasPrefix,
    Prim::HasSuffix,
    Prim::HasInfix,
    Prim::RemovePrefix,
    Prim::RemoveSuffix,
    Prim::SplitString,
    Prim::ToSentenceCase,
    Prim::BoolToString,
    Prim::VersionAtLeast,
    Prim::VersionOlder,
    Prim::ZipAttrsWith,
    Prim::Remove,
];

const TYPE_FUNCTIONS: &[Prim] = &[
    Prim::ListOf,
    Prim::NonEmptyListOf,
    Prim::AttrsOf,
    Prim::LazyAttrsOf,
    Prim::AttrsWith,
    Prim::NullOr,
    Prim::Enum,
    Prim::Either,
    Prim::OneOf,
    Prim::Submodule,
    Prim::SubmoduleWith,
    Prim::FunctionTo,
    Prim::CoercedTo,
    Prim::Uniq,
    Prim::UniqueType,
    Prim::AddCheck,
    Prim::PassAlong,
    Prim::StrMatching,
    Prim::SeparatedString,
    Prim::PathWith,
    Prim::DeferredModuleWith,
    Prim::AttrTag,
];

fn prim(ev: &mut Evaluator<'_>, p: Prim) -> Value {
    let _ = ev;
    Value::Prim(Rc::new(PrimApp {
        prim: p,
        args: Vec::new(),
        site: None,
    }))
}

fn insert(ev: &mut Evaluator<'_>, a: &mut Attrs, name: &str, v: Value) {
    let t = ev.value_thunk(v);
    a.entries.insert(
        Rc::from(name),
        Entry {
            value: t,
            pos: None,
        },
    );
}

/// The `builtins` set.
pub(crate) fn builtins_set(ev: &mut Evaluator<'_>) -> Value {
    let mut a = Attrs::default();
    for &p in BUILTINS {
        let v = prim(ev, p);
        insert(ev, &mut a, p.name(), v);
    }
    insert(ev, &mut a, "storeDir", Value::Str(Rc::from("/nix/store")));
    insert(ev, &mut a, "nixVersion", Value::Str(Rc::from("2.8.0")));
    a.open = true;
    Value::Attrs(Rc::new(a))
}

fn leaf(name: &str, description: &str, class: Class, shape: TypeShape) -> Value {
    Value::Type(Rc::new(Type {
        name: Rc::from(name),
        description: Rc::from(description),
        class,
        shape,
        sub: SubOptions::None,
    }))
}

fn int_range(name: &str, description: String, class: Class) -> Value {
    Value::Type(Rc::new(Type {
        name: Rc::from(name),
        description: Rc::from(description),
        class,
        shape: TypeShape::Int,
        sub: SubOptions::None,
    }))
}

/// `lib.types` leaves: attribute, type name, description, class and shape.
// One row per type; a table reads better than rustfmt's one-field-per-line tuples.
#[rustfmt::skip]
const LEAF_TYPES: &[(&str, &str, &str, Class, TypeShape)] = {
    use Class::*;
    &[
        ("bool", "bool", "boolean", Noun, TypeShape::Bool),
        ("boolByOr", "boolByOr", "boolean (merged using or)", Noun, TypeShape::Bool),
        ("int", "int", "signed integer", Noun, TypeShape::Int),
        ("float", "float", "floating point number", Noun, TypeShape::Float),
        ("number", "number", "signed integer or floating point number", Noun, TypeShape::Number),
        ("str", "str", "string", Noun, TypeShape::Str),
        ("nonEmptyStr", "nonEmptyStr", "non-empty string", Noun, TypeShape::Str),
        ("singleLineStr", "singleLineStr", "(optionally newline-terminated) single-line string", Noun, TypeShape::Str),
        ("lines", "separatedString", "strings concatenated with \"\\n\"", Noun, TypeShape::Str),
        ("commas", "separatedString", "strings concatenated with \",\"", Noun, TypeShape::Str),
        ("envVar", "separatedString", "strings concatenated with \":\"", Noun, TypeShape::Str),
        ("path", "path", "absolute path", Noun, TypeShape::Path),
        ("pathInStore", "path", "path in the Nix store", Noun, TypeShape::Path),
        ("externalPath", "path", "absolute path not in the Nix store", Noun, TypeShape::Path),
        ("package", "package", "package", Noun, TypeShape::Package),
        ("shellPackage", "shellPackage", "shell package", Noun, TypeShape::Package),
        ("attrs", "attrs", "attribute set", None, TypeShape::Attrs),
        ("anything", "anything", "anything", Noun, TypeShape::Any),
        ("unspecified", "unspecified", "unspecified value", Noun, TypeShape::Any),
        ("raw", "raw", "raw value", Noun, TypeShape::Any),
        ("luaInline", "luaInline", "inline lua", Noun, TypeShape::Any),
        ("deferredModule", "deferredModule", "module", Noun, TypeShape::Any),
        ("optionType", "optionType", "optionType", Noun, TypeShape::Any),
        ("pkgs", "pkgs", "Nixpkgs package set", Noun, TypeShape::Any),
        ("fileset", "fileset", "fileset", Noun, TypeShape::Any),
    ]
};

/// `lib.types`.
fn types_set(ev: &mut Evaluator<'_>) -> Value {
    use Class::*;
    let mut a = Attrs::default();
    for (attr, name, description, class, shape) in LEAF_TYPES {
        let v = leaf(name, description, *class, shape.clone());
        insert(ev, &mut a, attr, v);
    }
    let port = int_range(
        "unsignedInt16",
        "16 bit unsigned integer; between 0 and 65535 (both inclusive)".into(),
        Noun,
    );
    insert(ev, &mut a, "port", port);
    for &p in TYPE_FUNCTIONS {
        let v = prim(ev, p);
        insert(ev, &mut a, p.name(), v);
    }
    let mut ints = Attrs::default();
    let ranges: [(&str, &str, i64, i64); 7] = [
        ("u8", "8 bit unsigned integer", 0, 255),
        ("u16", "16 bit unsigned integer", 0, 65535),
        ("u32", "32 bit unsigned integer", 0, 4294967295),
        ("s8", "8 bit signed integer", -128, 127),
        ("s16", "16 bit signed integer", -32768, 32767),
        ("s32", "32 bit signed integer", -2147483648, 2147483647),
        ("u4", "4 bit unsigned integer", 0, 15),
    ];
    for (k, doc, lo, hi) in ranges {
        let v = int_range(
            k,
            format!("{doc}; between {lo} and {hi} (both inclusive)"),
            Noun,
        );
        insert(ev, &mut ints, k, v);
    }
    let v = int_range(
        "unsignedInt",
        "unsigned integer, meaning >=0".into(),
        NonRestrictive,
    );
    insert(ev, &mut ints, "unsigned", v);
    let v = int_range(
        "positiveInt",
        "positive integer, meaning >0".into(),
        NonRestrictive,
    );
    insert(ev, &mut ints, "positive", v);
    let v = prim(ev, Prim::IntsBetween);
    insert(ev, &mut ints, "between", v);
    insert(ev, &mut a, "ints", Value::Attrs(Rc::new(ints)));
    let mut numbers = Attrs::default();
    let v = prim(ev, Prim::NumbersBetween);
    insert(ev, &mut numbers, "between", v);
    let nonneg = leaf(
        "numberNonnegative",
        "nonnegative integer or floating point number, meaning >=0",
        NonRestrictive,
        TypeShape::Number,
    );
    insert(ev, &mut numbers, "nonnegative", nonneg);
    let pos = leaf(
        "numberPositive",
        "positive integer or floating point number, meaning >0",
        NonRestrictive,
        TypeShape::Number,
    );
    insert(ev, &mut numbers, "positive", pos);
    insert(ev, &mut a, "numbers", Value::Attrs(Rc::new(numbers)));
    a.open = true;
    Value::Attrs(Rc::new(a))
}

/// nixpkgs' `lib` (the parts that matter for declarations; other names are Unknown).
pub(crate) fn lib_set(ev: &mut Evaluator<'_>) -> Value {
    let mut a = Attrs::default();
    // Builtins re-exported by lib under the same names.
    for &p in BUILTINS.iter().chain(LIB) {
        let v = prim(ev, p);
        insert(ev, &mut a, p.name(), v);
    }
    for (alias, p) in [
        ("foldl", Prim::FoldlStrict),
        ("fold", Prim::Foldr),
        ("literalExample", Prim::LiteralExpression),
        ("mdDoc", Prim::Id),
        ("mkPackageOptionMD", Prim::MkPackageOption),
        ("mkAliasOptionModuleMD", Prim::MkAliasOptionModule),
        ("warn", Prim::Trace),
        ("warnIf", Prim::Unknown2),
        ("throwIf", Prim::Unknown2),
        ("throwIfNot", Prim::Unknown2),
        ("getExe", Prim::Unknown1),
        ("getExe'", Prim::Unknown2),
        ("escapeShellArg", Prim::Unknown1),
        ("isDerivation", Prim::Unknown1),
        ("intersectLists", Prim::Unknown2),
        ("subtractLists", Prim::Unknown2),
    ] {
        let v = prim(ev, p);
        insert(ev, &mut a, alias, v);
    }
    for (name, level) in [
        ("mkDefault", 1000),
        ("mkForce", 50),
        ("mkOptionDefault", 1500),
        ("mkImageMediaOverride", 60),
        ("mkVMOverride", 10),
        ("mkBefore", 500),
        ("mkAfter", 1500),
    ] {
        let p = Value::Prim(Rc::new(PrimApp {
            prim: Prim::MkOverride,
            args: vec![ev.value_thunk(Value::Int(level))],
            site: None,
        }));
        insert(ev, &mut a, name, p);
    }
    let types = types_set(ev);
    insert(ev, &mut a, "types", types);
    let mut path = Attrs::default();
    let v = prim(ev, Prim::PathAppend);
    insert(ev, &mut path, "append", v);
    path.open = true;
    insert(ev, &mut a, "path", Value::Attrs(Rc::new(path)));
    for open in [
        "maintainers",
        "teams",
        "platforms",
        "licenses",
        "generators",
        "fileset",
        "systems",
    ] {
        insert(
            ev,
            &mut a,
            open,
            Value::Attrs(Rc::new(Attrs {
                open: true,
                ..Attrs::default()
            })),
        );
    }
    a.open = true;
    let lib = Rc::new(a);
    // lib's sub-namespaces hold the same functions.
    let lib_t = ev.value_thunk(Value::Attrs(lib.clone()));
    let mut full = (*lib).clone();
    for ns in [
        "attrsets", "lists", "strings", "options", "modules", "trivial", "asserts", "versions",
    ] {
        full.entries.insert(
            Rc::from(ns),
            Entry {
                value: lib_t,
                pos: None,
            },
        );
    }
    Value::Attrs(Rc::new(full))
}

/// `pkgs.formats.<name>`: a format with a `type` described like nixpkgs does.
pub(crate) fn formats_set(ev: &mut Evaluator<'_>) -> Value {
    let mut a = Attrs {
        open: true,
        ..Attrs::default()
    };
    for (name, label) in [
        ("json", "JSON value"),
        ("yaml", "YAML 1.1 value"),
        ("yaml_1_1", "YAML 1.1 value"),
        ("yaml_1_2", "YAML 1.2 value"),
        ("toml", "TOML value"),
        ("ini", "INI value"),
        ("iniWithGlobalSection", "INI value"),
        ("gitIni", "Git INI value"),
        ("keyValue", "key-value value"),
        ("lua", "Lua value"),
        ("xml", "XML value"),
        ("elixirConf", "Elixir value"),
        ("javaProperties", "Java properties value"),
        ("hocon", "HOCON value"),
        ("php", "PHP value"),
        ("pythonVars", "Python value"),
        ("libconfig", "libconfig value"),
        ("nixConf", "Nix config value"),
        ("systemd", "systemd value"),
        ("cdn", "CDN value"),
        ("plist", "plist value"),
        ("kdl", "KDL value"),
    ] {
        let label = ev.value_thunk(Value::Str(Rc::from(label)));
        let p = Value::Prim(Rc::new(PrimApp {
            prim: Prim::Format,
            args: vec![label],
            site: None,
        }));
        insert(ev, &mut a, name, p);
    }
    Value::Attrs(Rc::new(a))
}

// ---- helpers ----------------------------------------------------------------------------

fn str_of(ev: &mut Evaluator<'_>, t: ThunkId) -> Option<String> {
    ev.force_str(t).map(|s| s.to_string())
}

fn list_of(ev: &mut Evaluator<'_>, t: ThunkId) -> Vec<ThunkId> {
    ev.force_list(t).map(|l| (*l).clone()).unwrap_or_default()
}

fn attrs_of(ev: &mut Evaluator<'_>, t: ThunkId) -> Option<Rc<Attrs>> {
    ev.force_attrs(t)
}

fn bool_of(ev: &mut Evaluator<'_>, t: ThunkId) -> Option<bool> {
    match ev.force(t) {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

fn list(items: Vec<ThunkId>) -> Value {
    Value::List(Rc::new(items))
}

fn string(s: impl Into<String>) -> Value {
    Value::Str(Rc::from(s.into()))
}

fn call1(ev: &mut Evaluator<'_>, f: ThunkId, x: ThunkId) -> Value {
    let fv = ev.force(f);
    ev.apply(fv, x, None)
}

fn call2(ev: &mut Evaluator<'_>, f: ThunkId, x: ThunkId, y: ThunkId) -> Value {
    let g = call1(ev, f, x);
    ev.apply(g, y, None)
}

/// A suspended `f x` (laziness matters: `mapAttrs` must not evaluate every value).
fn lazy1(ev: &mut Evaluator<'_>, f: ThunkId, x: ThunkId) -> ThunkId {
    ev.apply_thunk(f, x)
}

fn lazy2(ev: &mut Evaluator<'_>, f: ThunkId, x: ThunkId, y: ThunkId) -> ThunkId {
    let g = ev.apply_thunk(f, x);
    ev.apply_thunk(g, y)
}

fn str_path(ev: &mut Evaluator<'_>, t: ThunkId) -> Option<Vec<String>> {
    match ev.force(t) {
        Value::List(items) => items.iter().map(|&i| str_of(ev, i)).collect(),
        Value::Str(s) => Some(s.split('.').map(str::to_owned).collect()),
        _ => None,
    }
}

fn attrs_from(ev: &mut Evaluator<'_>, pairs: Vec<(Rc<str>, ThunkId)>) -> Value {
    let mut a = Attrs::default();
    for (k, v) in pairs {
        a.entries.insert(
            k,
            Entry {
                value: v,
                pos: None,
            },
        );
    }
    let _ = ev;
    Value::Attrs(Rc::new(a))
}

fn ty(name: &str, description: String, class: Class, shape: TypeShape, sub: SubOptions) -> Value {
    Value::Type(Rc::new(Type {
        name: Rc::from(name),
        description: Rc::from(description),
        class,
        shape,
        sub,
    }))
}

fn type_of(ev: &mut Evaluator<'_>, t: ThunkId) -> Rc<Type> {
    match ev.force(t) {
        Value::Type(t) => t,
        _ => Rc::new(Type {
            name: Rc::from("unknown"),
            description: Rc::from("unspecified value"),
            class: Class::Noun,
            shape: TypeShape::Any,
            sub: SubOptions::None,
        }),
    }
}

/// `optionDescriptionPhrase`: the description, parenthesised unless its class fits.
fn phrase(t: &Type, ok: impl Fn(Class) -> bool) -> String {
    if ok(t.class) {
        t.description.to_string()
    } else {
        format!("({})", t.description)
    }
}

fn noun_or_composite(c: Class) -> bool {
    matches!(c, Class::Noun | Class::Composite)
}

/// Nix source for a simple value (enum members, defaults of generated options).
fn show(ev: &mut Evaluator<'_>, t: ThunkId) -> String {
    match ev.force(t) {
        Value::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Float(f) => f.to_string(),
        _ => "<unknown>".into(),
    }
}

fn shim(
    ev: &mut Evaluator<'_>,
    kind: &str,
    from: ThunkId,
    to: Option<ThunkId>,
    site: Option<Pos>,
) -> Value {
    let mut inner = Attrs::default();
    insert(ev, &mut inner, "kind", string(kind));
    inner.entries.insert(
        Rc::from("from"),
        Entry {
            value: from,
            pos: None,
        },
    );
    if let Some(to) = to {
        inner.entries.insert(
            Rc::from("to"),
            Entry {
                value: to,
                pos: None,
            },
        );
    }
    let mut outer = Attrs {
        pos: site,
        ..Attrs::default()
    };
    insert(ev, &mut outer, "__strataShim", Value::Attrs(Rc::new(inner)));
    Value::Attrs(Rc::new(outer))
}

/// Compares dotted version strings the way `builtins.compareVersions` does for the
/// common numeric cases.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> {
        s.split(['.', '-'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

// ---- type attributes ----------------------------------------------------------------------

/// `t.<name>` for a built-in type.
pub(crate) fn type_attr(ev: &mut Evaluator<'_>, t: &Rc<Type>, name: &str) -> Value {
    match name {
        "description" => Value::Str(t.description.clone()),
        "name" => Value::Str(t.name.clone()),
        "descriptionClass" => string(match t.class {
            Class::Noun => "noun",
            Class::Composite => "composite",
            Class::Conjunction => "conjunction",
            Class::NonRestrictive => "nonRestrictiveClause",
            Class::None => return Value::Null,
        }),
        "getSubOptions" => {
            let me = ev.value_thunk(Value::Type(t.clone()));
            Value::Prim(Rc::new(PrimApp {
                prim: Prim::GetSubOptions,
                args: vec![me],
                site: None,
            }))
        }
        "nestedTypes" => match &t.sub {
            SubOptions::Elem(e, _) => {
                let e = Value::Type(e.clone());
                ev.make_attrs(vec![("elemType", e)])
            }
            _ => ev.make_attrs(vec![]),
        },
        "getSubModules" => match &t.sub {
            SubOptions::Modules { modules, .. } => list(modules.clone()),
            SubOptions::Elem(e, _) => type_attr(ev, &e.clone(), "getSubModules"),
            _ => Value::Null,
        },
        "substSubModules" => {
            let me = ev.value_thunk(Value::Type(t.clone()));
            Value::Prim(Rc::new(PrimApp {
                prim: Prim::Const,
                args: vec![me],
                site: None,
            }))
        }
        _ => Value::Unknown,
    }
}

/// `type // { description = …; }`
pub(crate) fn override_type(ev: &mut Evaluator<'_>, t: &Rc<Type>, b: &Attrs) -> Value {
    let mut out = (**t).clone();
    if let Some(e) = b.entries.get("description") {
        if let Some(s) = ev.force_str(e.value) {
            out.description = s;
        }
    }
    if let Some(e) = b.entries.get("name") {
        if let Some(s) = ev.force_str(e.value) {
            out.name = s;
        }
    }
    if let Some(e) = b.entries.get("descriptionClass") {
        out.class = match ev.force_str(e.value).as_deref() {
            Some("noun") => Class::Noun,
            Some("composite") => Class::Composite,
            Some("conjunction") => Class::Conjunction,
            Some("nonRestrictiveClause") => Class::NonRestrictive,
            _ => Class::None,
        };
    }
    Value::Type(Rc::new(out))
}

// ---- calls ----------------------------------------------------------------------------

/// Applies a saturated built-in.
pub(crate) fn call(ev: &mut Evaluator<'_>, p: Prim, args: &[ThunkId], site: Option<Pos>) -> Value {
    use Prim as P;
    let a = |i: usize| args[i];
    match p {
        P::Import => match ev.force(a(0)) {
            Value::Path(path) | Value::Str(path) => ev.import(&path),
            _ => Value::Unknown,
        },
        P::Map => {
            let items = list_of(ev, a(1));
            list(items.into_iter().map(|x| lazy1(ev, a(0), x)).collect())
        }
        P::ToString => match ev.force(a(0)) {
            Value::Bool(true) => string("1"),
            Value::Bool(false) | Value::Null => string(""),
            Value::List(items) => {
                let mut parts = Vec::new();
                for &i in items.iter() {
                    let v = ev.force(i);
                    match ev.coerce_to_string(&v) {
                        Some(s) => parts.push(s),
                        None => return Value::Unknown,
                    }
                }
                string(parts.join(" "))
            }
            v => ev.coerce_to_string(&v).map_or(Value::Unknown, string),
        },
        P::Throw | P::Abort | P::Unknown1 | P::Unknown2 => Value::Unknown,
        P::IsNull => match ev.force(a(0)) {
            Value::Unknown => Value::Unknown,
            v => Value::Bool(matches!(v, Value::Null)),
        },
        P::RemoveAttrs => {
            let Some(set) = attrs_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let names: Vec<String> = list_of(ev, a(1))
                .into_iter()
                .filter_map(|n| str_of(ev, n))
                .collect();
            let mut out = (*set).clone();
            for n in names {
                out.entries.remove(n.as_str());
            }
            Value::Attrs(Rc::new(out))
        }
        P::BaseNameOf => match ev.force(a(0)) {
            Value::Str(s) | Value::Path(s) => {
                string(s.trim_end_matches('/').rsplit('/').next().unwrap_or(""))
            }
            _ => Value::Unknown,
        },
        P::DirOf => match ev.force(a(0)) {
            Value::Path(s) => Value::Path(Rc::from(super::eval::dir_of(&s))),
            Value::Str(s) => string(super::eval::dir_of(&s)),
            _ => Value::Unknown,
        },
        P::AttrNames => match attrs_of(ev, a(0)) {
            Some(s) => {
                let names: Vec<Rc<str>> = s.entries.keys().cloned().collect();
                list(
                    names
                        .into_iter()
                        .map(|n| ev.value_thunk(Value::Str(n)))
                        .collect(),
                )
            }
            None => Value::Unknown,
        },
        P::AttrValues => match attrs_of(ev, a(0)) {
            Some(s) => list(s.entries.values().map(|e| e.value).collect()),
            None => Value::Unknown,
        },
        P::HasAttr => {
            let name = str_of(ev, a(0));
            match (name, attrs_of(ev, a(1))) {
                (Some(n), Some(s)) if s.entries.contains_key(n.as_str()) => Value::Bool(true),
                (Some(_), Some(s)) if !s.open => Value::Bool(false),
                _ => Value::Unknown,
            }
        }
        P::GetAttr => {
            let name = str_of(ev, a(0));
            let set = ev.force(a(1));
            match name {
                Some(n) => ev.select(&set, &n).unwrap_or(Value::Unknown),
                None => Value::Unknown,
            }
        }
        P::ListToAttrs => {
            let mut pairs = Vec::new();
            for item in list_of(ev, a(0)) {
                let Some(kv) = attrs_of(ev, item) else {
                    continue;
                };
                let (Some(n), Some(v)) = (kv.entries.get("name"), kv.entries.get("value")) else {
                    continue;
                };
                let v = v.value;
                if let Some(n) = ev.force_str(n.value) {
                    // The first occurrence wins, as in Nix.
                    if !pairs.iter().any(|(k, _): &(Rc<str>, ThunkId)| *k == n) {
                        pairs.push((n, v));
                    }
                }
            }
            attrs_from(ev, pairs)
        }
        P::MapAttrs => {
            let Some(set) = attrs_of(ev, a(1)) else {
                return Value::Unknown;
            };
            let mut out = Attrs::default();
            for (k, e) in set.entries.iter() {
                let kt = ev.value_thunk(Value::Str(k.clone()));
                let v = lazy2(ev, a(0), kt, e.value);
                out.entries.insert(
                    k.clone(),
                    Entry {
                        value: v,
                        pos: e.pos,
                    },
                );
            }
            Value::Attrs(Rc::new(out))
        }
        P::Filter => {
            let mut out = Vec::new();
            for x in list_of(ev, a(1)) {
                match call1(ev, a(0), x) {
                    Value::Bool(false) => {}
                    _ => out.push(x),
                }
            }
            list(out)
        }
        P::Elem => {
            let x = ev.force(a(0));
            let mut unknown = false;
            for y in list_of(ev, a(1)) {
                let yv = ev.force(y);
                match ev.equal(&x, &yv) {
                    Some(true) => return Value::Bool(true),
                    Some(false) => {}
                    None => unknown = true,
                }
            }
            if unknown {
                Value::Unknown
            } else {
                Value::Bool(false)
            }
        }
        P::Length => ev
            .force_list(a(0))
            .map_or(Value::Unknown, |l| Value::Int(l.len() as i64)),
        P::Head => list_of(ev, a(0))
            .first()
            .map_or(Value::Unknown, |&t| ev.force(t)),
        P::Last => list_of(ev, a(0))
            .last()
            .map_or(Value::Unknown, |&t| ev.force(t)),
        P::Tail => {
            let l = list_of(ev, a(0));
            list(l.into_iter().skip(1).collect())
        }
        P::ElemAt => {
            let l = list_of(ev, a(0));
            match ev.force(a(1)) {
                Value::Int(i) if i >= 0 && (i as usize) < l.len() => ev.force(l[i as usize]),
                _ => Value::Unknown,
            }
        }
        P::ConcatLists => {
            let mut out = Vec::new();
            for l in list_of(ev, a(0)) {
                out.extend(list_of(ev, l));
            }
            list(out)
        }
        P::ConcatMap => {
            let mut out = Vec::new();
            for x in list_of(ev, a(1)) {
                if let Value::List(l) = call1(ev, a(0), x) {
                    out.extend(l.iter().copied());
                }
            }
            list(out)
        }
        P::FoldlStrict => {
            let mut acc = a(1);
            for x in list_of(ev, a(2)) {
                let v = call2(ev, a(0), acc, x);
                acc = ev.value_thunk(v);
            }
            ev.force(acc)
        }
        P::Foldr => {
            let mut acc = a(1);
            for x in list_of(ev, a(2)).into_iter().rev() {
                acc = lazy2(ev, a(0), x, acc);
            }
            ev.force(acc)
        }
        P::GenList => match ev.force(a(1)) {
            Value::Int(n) if (0..100_000).contains(&n) => {
                let items = (0..n)
                    .map(|i| {
                        let it = ev.value_thunk(Value::Int(i));
                        lazy1(ev, a(0), it)
                    })
                    .collect();
                list(items)
            }
            _ => Value::Unknown,
        },
        P::IsAttrs
        | P::IsList
        | P::IsString
        | P::IsBool
        | P::IsInt
        | P::IsFunction
        | P::IsPath
        | P::IsFloat => {
            let v = ev.force(a(0));
            let r = match (p, &v) {
                (_, Value::Unknown) => return Value::Unknown,
                (P::IsAttrs, Value::Attrs(_) | Value::Type(_)) => true,
                (P::IsList, Value::List(_)) => true,
                (P::IsString, Value::Str(_)) => true,
                (P::IsBool, Value::Bool(_)) => true,
                (P::IsInt, Value::Int(_)) => true,
                (P::IsFloat, Value::Float(_)) => true,
                (P::IsPath, Value::Path(_)) => true,
                (P::IsFunction, Value::Lambda(_) | Value::Prim(_)) => true,
                _ => false,
            };
            Value::Bool(r)
        }
        P::TypeOf => string(match ev.force(a(0)) {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Path(_) => "path",
            Value::List(_) => "list",
            Value::Attrs(_) | Value::Type(_) | Value::SubOptions(..) => "set",
            Value::Lambda(_) | Value::Prim(_) => "lambda",
            Value::Unknown => return Value::Unknown,
        }),
        P::ReadDir => match ev.force(a(0)) {
            Value::Path(path) => match ev.source.read_dir(&path) {
                Some(entries) => {
                    let pairs: Vec<(Rc<str>, ThunkId)> = entries
                        .into_iter()
                        .map(|(n, dir)| {
                            let kind = if dir { "directory" } else { "regular" };
                            (Rc::from(n), ev.value_thunk(string(kind)))
                        })
                        .collect();
                    attrs_from(ev, pairs)
                }
                None => Value::Unknown,
            },
            _ => Value::Unknown,
        },
        P::PathExists => match ev.force(a(0)) {
            Value::Path(path) => Value::Bool(
                ev.source.read_dir(&path).is_some() || ev.source.read_file(&path).is_some(),
            ),
            _ => Value::Unknown,
        },
        P::ReadFile => match ev.force(a(0)) {
            Value::Path(path) => ev
                .source
                .read_file(&path)
                .map_or(Value::Unknown, |t| string(&*t)),
            _ => Value::Unknown,
        },
        P::ConcatStringsSep => {
            let sep = str_of(ev, a(0));
            let mut parts = Vec::new();
            for x in list_of(ev, a(1)) {
                let v = ev.force(x);
                match ev.coerce_to_string(&v) {
                    Some(s) => parts.push(s),
                    None => return Value::Unknown,
                }
            }
            sep.map_or(Value::Unknown, |sep| string(parts.join(&sep)))
        }
        P::ReplaceStrings => {
            let from: Option<Vec<String>> = list_of(ev, a(0))
                .into_iter()
                .map(|t| str_of(ev, t))
                .collect();
            let to: Option<Vec<String>> = list_of(ev, a(1))
                .into_iter()
                .map(|t| str_of(ev, t))
                .collect();
            let (Some(from), Some(to), Some(s)) = (from, to, str_of(ev, a(2))) else {
                return Value::Unknown;
            };
            let mut out = String::new();
            let mut i = 0;
            'outer: while i <= s.len() {
                for (f, t) in from.iter().zip(&to) {
                    if s[i..].starts_with(f.as_str()) {
                        out.push_str(t);
                        if f.is_empty() {
                            if let Some(c) = s[i..].chars().next() {
                                out.push(c);
                                i += c.len_utf8();
                            } else {
                                break 'outer;
                            }
                        } else {
                            i += f.len();
                        }
                        continue 'outer;
                    }
                }
                match s[i..].chars().next() {
                    Some(c) => {
                        out.push(c);
                        i += c.len_utf8();
                    }
                    None => break,
                }
            }
            string(out)
        }
        P::Substring => {
            let (Value::Int(start), Value::Int(len), Some(s)) =
                (ev.force(a(0)), ev.force(a(1)), str_of(ev, a(2)))
            else {
                return Value::Unknown;
            };
            let start = (start.max(0) as usize).min(s.len());
            let end = if len < 0 {
                s.len()
            } else {
                (start + len as usize).min(s.len())
            };
            s.get(start..end).map_or(Value::Unknown, string)
        }
        P::StringLength => str_of(ev, a(0)).map_or(Value::Unknown, |s| Value::Int(s.len() as i64)),
        P::Trace | P::Seq => ev.force(a(1)),
        P::IntersectAttrs => {
            let (Some(x), Some(y)) = (attrs_of(ev, a(0)), attrs_of(ev, a(1))) else {
                return Value::Unknown;
            };
            let mut out = Attrs::default();
            for (k, e) in y.entries.iter() {
                if x.entries.contains_key(k) {
                    out.entries.insert(k.clone(), *e);
                }
            }
            Value::Attrs(Rc::new(out))
        }
        P::FunctionArgs => match ev.force(a(0)) {
            Value::Lambda(c) => {
                let mut out = Attrs::default();
                if let Some(crate::syntax::ast::Param::Pattern(pat)) = c.lambda.param() {
                    for e in pat.pat_entries() {
                        if let Some(i) = e.ident() {
                            let has_default = e.default().is_some();
                            let t = ev.value_thunk(Value::Bool(has_default));
                            out.entries.insert(
                                Rc::from(i.name()),
                                Entry {
                                    value: t,
                                    pos: None,
                                },
                            );
                        }
                    }
                }
                Value::Attrs(Rc::new(out))
            }
            _ => Value::Unknown,
        },
        P::CatAttrs => {
            let Some(name) = str_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let mut out = Vec::new();
            for x in list_of(ev, a(1)) {
                if let Some(s) = attrs_of(ev, x) {
                    if let Some(e) = s.entries.get(name.as_str()) {
                        out.push(e.value);
                    }
                }
            }
            list(out)
        }
        P::Any | P::All => {
            let want = p == P::Any;
            let mut unknown = false;
            for x in list_of(ev, a(1)) {
                match call1(ev, a(0), x) {
                    Value::Bool(b) if b == want => return Value::Bool(want),
                    Value::Bool(_) => {}
                    _ => unknown = true,
                }
            }
            if unknown {
                Value::Unknown
            } else {
                Value::Bool(!want)
            }
        }
        // Order rarely matters for declarations; keep the input order.
        P::Sort => ev.force(a(1)),
        P::TryEval => {
            let v = ev.force(a(0));
            let ok = !matches!(v, Value::Unknown);
            let vt = ev.value_thunk(v);
            let okt = ev.value_thunk(Value::Bool(ok));
            attrs_from(
                ev,
                vec![(Rc::from("success"), okt), (Rc::from("value"), vt)],
            )
        }
        P::Add => {
            let (x, y) = (ev.force(a(0)), ev.force(a(1)));
            ev.binop(crate::syntax::ast::BinaryOp::Add, x, y)
        }
        P::LessThan => {
            let (x, y) = (ev.force(a(0)), ev.force(a(1)));
            ev.binop(crate::syntax::ast::BinaryOp::Less, x, y)
        }
        P::ToJson => string(show(ev, a(0))),

        // ---- lib: options ----
        P::MkOption => {
            let mut out = match attrs_of(ev, a(0)) {
                Some(s) => (*s).clone(),
                None => Attrs::default(),
            };
            out.open = false;
            out.pos = site;
            insert(ev, &mut out, "_type", string("option"));
            Value::Attrs(Rc::new(out))
        }
        P::MkEnableOption => {
            let name = str_of(ev, a(0));
            let mut out = Attrs {
                pos: site,
                ..Attrs::default()
            };
            insert(ev, &mut out, "_type", string("option"));
            let bool_t = leaf("bool", "boolean", Class::Noun, TypeShape::Bool);
            insert(ev, &mut out, "type", bool_t);
            insert(ev, &mut out, "default", Value::Bool(false));
            insert(ev, &mut out, "example", Value::Bool(true));
            if let Some(n) = name {
                insert(
                    ev,
                    &mut out,
                    "description",
                    string(format!("Whether to enable {n}.")),
                );
            }
            Value::Attrs(Rc::new(out))
        }
        P::MkPackageOption => mk_package_option(ev, args, site),
        P::MkSinkUndeclaredOptions => {
            let mut out = Attrs {
                pos: site,
                ..Attrs::default()
            };
            insert(ev, &mut out, "_type", string("option"));
            insert(ev, &mut out, "internal", Value::Bool(true));
            insert(ev, &mut out, "visible", Value::Bool(false));
            Value::Attrs(Rc::new(out))
        }
        P::LiteralExpression | P::LiteralMd => {
            let kind = if p == P::LiteralMd {
                "literalMD"
            } else {
                "literalExpression"
            };
            let t = ev.value_thunk(string(kind));
            attrs_from(ev, vec![(Rc::from("_type"), t), (Rc::from("text"), a(0))])
        }
        P::Id => ev.force(a(0)),
        P::Const => ev.force(a(0)),
        P::Flip => call2(ev, a(0), a(2), a(1)),
        P::Pipe => {
            let mut acc = a(0);
            for f in list_of(ev, a(1)) {
                acc = lazy1(ev, f, acc);
            }
            ev.force(acc)
        }
        P::MkIf => {
            let t = ev.value_thunk(string("if"));
            attrs_from(
                ev,
                vec![
                    (Rc::from("_type"), t),
                    (Rc::from("condition"), a(0)),
                    (Rc::from("content"), a(1)),
                ],
            )
        }
        P::MkMerge => {
            let t = ev.value_thunk(string("merge"));
            attrs_from(
                ev,
                vec![(Rc::from("_type"), t), (Rc::from("contents"), a(0))],
            )
        }
        P::MkOverride => {
            let t = ev.value_thunk(string("override"));
            attrs_from(
                ev,
                vec![
                    (Rc::from("_type"), t),
                    (Rc::from("priority"), a(0)),
                    (Rc::from("content"), a(1)),
                ],
            )
        }
        P::MkOptionType => {
            let Some(s) = attrs_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let name = s
                .entries
                .get("name")
                .and_then(|e| ev.force_str(e.value))
                .unwrap_or(Rc::from("unknown"));
            let description = s
                .entries
                .get("description")
                .and_then(|e| ev.force_str(e.value))
                .unwrap_or_else(|| name.clone());
            let sub = match s.entries.get("getSubOptions") {
                Some(e) => SubOptions::Custom(e.value),
                None => SubOptions::None,
            };
            let base = Rc::new(Type {
                shape: shape_for_name(&name),
                name,
                description,
                class: Class::None,
                sub,
            });
            override_type(
                ev,
                &base,
                &Attrs {
                    entries: s
                        .entries
                        .iter()
                        .filter(|(k, _)| &***k == "descriptionClass")
                        .map(|(k, v)| (k.clone(), *v))
                        .collect::<BTreeMap<_, _>>(),
                    ..Attrs::default()
                },
            )
        }
        P::ShowOption => match str_path(ev, a(0)) {
            Some(p) => string(p.join(".")),
            None => Value::Unknown,
        },
        P::IsOption => match ev.force(a(0)) {
            Value::Attrs(s) => match s.entries.get("_type") {
                Some(e) => Value::Bool(ev.force_str(e.value).as_deref() == Some("option")),
                None => Value::Bool(false),
            },
            Value::Unknown => Value::Unknown,
            _ => Value::Bool(false),
        },

        // ---- lib: renames ----
        P::MkRenamedOptionModule | P::MkAliasOptionModule => {
            shim(ev, "renamed", a(0), Some(a(1)), site)
        }
        P::MkRenamedOptionModuleWith => {
            let Some(s) = attrs_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let (Some(from), Some(to)) = (s.entries.get("from"), s.entries.get("to")) else {
                return Value::Unknown;
            };
            shim(ev, "renamed", from.value, Some(to.value), site)
        }
        P::MkRemovedOptionModule => shim(ev, "removed", a(0), Some(a(1)), site),
        P::MkChangedOptionModule => {
            let to = ev.value_thunk(list(vec![a(1)]));
            shim(ev, "changed", a(0), Some(to), site)
        }
        P::MkMergedOptionModule => {
            // Several old options merged into one new one: one shim per old option.
            let froms = list_of(ev, a(0));
            let to = ev.value_thunk(list(vec![a(1)]));
            let shims: Vec<ThunkId> = froms
                .into_iter()
                .map(|f| {
                    let s = shim(ev, "changed", f, Some(to), site);
                    ev.value_thunk(s)
                })
                .collect();
            let imports = ev.value_thunk(list(shims));
            attrs_from(ev, vec![(Rc::from("imports"), imports)])
        }
        P::ImportApply => {
            let m = match ev.force(a(0)) {
                Value::Path(path) => ev.import(&path),
                v => v,
            };
            ev.apply(m, a(1), site)
        }

        // ---- lib: sets and lists ----
        P::OptionalAttrs => match bool_of(ev, a(0)) {
            Some(false) => attrs_from(ev, vec![]),
            _ => ev.force(a(1)),
        },
        P::Optional => match bool_of(ev, a(0)) {
            Some(false) => list(vec![]),
            _ => list(vec![a(1)]),
        },
        P::Optionals => match bool_of(ev, a(0)) {
            Some(false) => list(vec![]),
            _ => ev.force(a(1)),
        },
        P::OptionalString => match bool_of(ev, a(0)) {
            Some(false) => string(""),
            Some(true) => ev.force(a(1)),
            None => Value::Unknown,
        },
        P::GenAttrs => {
            let mut pairs = Vec::new();
            for n in list_of(ev, a(0)) {
                if let Some(name) = ev.force_str(n) {
                    let v = lazy1(ev, a(1), n);
                    pairs.push((name, v));
                }
            }
            attrs_from(ev, pairs)
        }
        P::MapAttrsPrime | P::ConcatMapAttrs => {
            let Some(set) = attrs_of(ev, a(1)) else {
                return Value::Unknown;
            };
            let mut out = Attrs::default();
            for (k, e) in set.entries.iter() {
                let kt = ev.value_thunk(Value::Str(k.clone()));
                let r = call2(ev, a(0), kt, e.value);
                let Value::Attrs(r) = r else { continue };
                if p == P::MapAttrsPrime {
                    let (Some(n), Some(v)) = (r.entries.get("name"), r.entries.get("value")) else {
                        continue;
                    };
                    let v = *v;
                    if let Some(n) = ev.force_str(n.value) {
                        out.entries.insert(
                            n,
                            Entry {
                                value: v.value,
                                pos: e.pos,
                            },
                        );
                    }
                } else {
                    for (k2, e2) in r.entries.iter() {
                        out.entries.insert(k2.clone(), *e2);
                    }
                }
            }
            Value::Attrs(Rc::new(out))
        }
        P::MapAttrsToList => {
            let Some(set) = attrs_of(ev, a(1)) else {
                return Value::Unknown;
            };
            let items = set
                .entries
                .iter()
                .map(|(k, e)| {
                    let kt = ev.value_thunk(Value::Str(k.clone()));
                    lazy2(ev, a(0), kt, e.value)
                })
                .collect();
            list(items)
        }
        P::NameValuePair => attrs_from(
            ev,
            vec![(Rc::from("name"), a(0)), (Rc::from("value"), a(1))],
        ),
        P::FilterAttrs => {
            let Some(set) = attrs_of(ev, a(1)) else {
                return Value::Unknown;
            };
            let mut out = Attrs::default();
            for (k, e) in set.entries.iter() {
                let kt = ev.value_thunk(Value::Str(k.clone()));
                if !matches!(call2(ev, a(0), kt, e.value), Value::Bool(false)) {
                    out.entries.insert(k.clone(), *e);
                }
            }
            Value::Attrs(Rc::new(out))
        }
        P::Flatten => {
            fn go(ev: &mut Evaluator<'_>, t: ThunkId, out: &mut Vec<ThunkId>) {
                match ev.force(t) {
                    Value::List(l) => {
                        for &x in l.iter() {
                            go(ev, x, out);
                        }
                    }
                    _ => out.push(t),
                }
            }
            let mut out = Vec::new();
            go(ev, a(0), &mut out);
            list(out)
        }
        P::RecursiveUpdate => {
            fn merge(ev: &mut Evaluator<'_>, x: &Attrs, y: &Attrs) -> Attrs {
                let mut out = x.clone();
                for (k, e) in y.entries.iter() {
                    let merged = match out.entries.get(k) {
                        Some(old) => match (ev.force(old.value), ev.force(e.value)) {
                            (Value::Attrs(p), Value::Attrs(q))
                                if !p.entries.contains_key("_type")
                                    && !q.entries.contains_key("_type") =>
                            {
                                let m = merge(ev, &p, &q);
                                Some(ev.value_thunk(Value::Attrs(Rc::new(m))))
                            }
                            _ => None,
                        },
                        None => None,
                    };
                    let value = merged.unwrap_or(e.value);
                    out.entries.insert(k.clone(), Entry { value, pos: e.pos });
                }
                out
            }
            match (attrs_of(ev, a(0)), attrs_of(ev, a(1))) {
                (Some(x), Some(y)) => Value::Attrs(Rc::new(merge(ev, &x, &y))),
                (Some(x), None) => Value::Attrs(x),
                (None, Some(y)) => Value::Attrs(y),
                _ => Value::Unknown,
            }
        }
        P::MergeAttrsList => {
            let mut out = Attrs::default();
            for x in list_of(ev, a(0)) {
                if let Some(s) = attrs_of(ev, x) {
                    for (k, e) in s.entries.iter() {
                        out.entries.insert(k.clone(), *e);
                    }
                }
            }
            Value::Attrs(Rc::new(out))
        }
        P::SetAttrByPath => {
            let Some(path) = str_path(ev, a(0)) else {
                return Value::Unknown;
            };
            let mut v = a(1);
            for name in path.iter().rev() {
                let set = attrs_from(ev, vec![(Rc::from(name.as_str()), v)]);
                v = ev.value_thunk(set);
            }
            ev.force(v)
        }
        P::AttrByPath | P::GetAttrFromPath | P::HasAttrByPath => {
            let Some(path) = str_path(ev, a(0)) else {
                return Value::Unknown;
            };
            let set_arg = if p == P::AttrByPath { a(2) } else { a(1) };
            let mut v = ev.force(set_arg);
            for name in &path {
                match ev.select(&v, name) {
                    Some(n) => v = n,
                    None => {
                        return match p {
                            P::AttrByPath => ev.force(a(1)),
                            P::HasAttrByPath => Value::Bool(false),
                            _ => Value::Unknown,
                        }
                    }
                }
            }
            if p == P::HasAttrByPath {
                Value::Bool(true)
            } else {
                v
            }
        }
        P::Range => match (ev.force(a(0)), ev.force(a(1))) {
            (Value::Int(lo), Value::Int(hi)) if hi - lo < 100_000 => {
                list((lo..=hi).map(|i| ev.value_thunk(Value::Int(i))).collect())
            }
            _ => Value::Unknown,
        },
        P::Imap0 | P::Imap1 => {
            let base = if p == P::Imap1 { 1 } else { 0 };
            let items = list_of(ev, a(1));
            list(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let it = ev.value_thunk(Value::Int(i as i64 + base));
                        lazy2(ev, a(0), it, x)
                    })
                    .collect(),
            )
        }
        P::Unique => {
            let mut out: Vec<(ThunkId, Value)> = Vec::new();
            for x in list_of(ev, a(0)) {
                let v = ev.force(x);
                let mut dup = false;
                for (_, o) in &out {
                    if ev.equal(o, &v) == Some(true) {
                        dup = true;
                        break;
                    }
                }
                if !dup {
                    out.push((x, v));
                }
            }
            list(out.into_iter().map(|(t, _)| t).collect())
        }
        P::Remove => {
            let x = ev.force(a(0));
            let mut out = Vec::new();
            for y in list_of(ev, a(1)) {
                let yv = ev.force(y);
                if ev.equal(&x, &yv) != Some(true) {
                    out.push(y);
                }
            }
            list(out)
        }
        P::ToList => match ev.force(a(0)) {
            v @ Value::List(_) => v,
            _ => list(vec![a(0)]),
        },
        P::ConcatMapStringsSep | P::ConcatMapStrings => {
            let (sep, f, l) = if p == P::ConcatMapStringsSep {
                (str_of(ev, a(0)), a(1), a(2))
            } else {
                (Some(String::new()), a(0), a(1))
            };
            let mut parts = Vec::new();
            for x in list_of(ev, l) {
                let v = call1(ev, f, x);
                match ev.coerce_to_string(&v) {
                    Some(s) => parts.push(s),
                    None => return Value::Unknown,
                }
            }
            sep.map_or(Value::Unknown, |sep| string(parts.join(&sep)))
        }
        P::ConcatStrings => {
            let mut out = String::new();
            for x in list_of(ev, a(0)) {
                match str_of(ev, x) {
                    Some(s) => out.push_str(&s),
                    None => return Value::Unknown,
                }
            }
            string(out)
        }
        P::ToUpper => str_of(ev, a(0)).map_or(Value::Unknown, |s| string(s.to_ascii_uppercase())),
        P::ToLower => str_of(ev, a(0)).map_or(Value::Unknown, |s| string(s.to_ascii_lowercase())),
        P::ToSentenceCase => str_of(ev, a(0)).map_or(Value::Unknown, |s| {
            let mut c = s.chars();
            string(match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect::<String>(),
                None => String::new(),
            })
        }),
        P::HasPrefix | P::HasSuffix | P::HasInfix | P::RemovePrefix | P::RemoveSuffix => {
            let (Some(x), Some(s)) = (str_of(ev, a(0)), str_of(ev, a(1))) else {
                return Value::Unknown;
            };
            match p {
                P::HasPrefix => Value::Bool(s.starts_with(&x)),
                P::HasSuffix => Value::Bool(s.ends_with(&x)),
                P::HasInfix => Value::Bool(s.contains(&x)),
                P::RemovePrefix => string(s.strip_prefix(&x).unwrap_or(&s)),
                _ => string(s.strip_suffix(&x).unwrap_or(&s)),
            }
        }
        P::SplitString => {
            let (Some(sep), Some(s)) = (str_of(ev, a(0)), str_of(ev, a(1))) else {
                return Value::Unknown;
            };
            if sep.is_empty() {
                return Value::Unknown;
            }
            list(
                s.split(sep.as_str())
                    .map(|p| ev.value_thunk(string(p)))
                    .collect(),
            )
        }
        P::BoolToString => match bool_of(ev, a(0)) {
            Some(b) => string(b.to_string()),
            None => Value::Unknown,
        },
        P::VersionAtLeast | P::VersionOlder => {
            let (Some(x), Some(y)) = (str_of(ev, a(0)), str_of(ev, a(1))) else {
                return Value::Unknown;
            };
            let ord = compare_versions(&x, &y);
            Value::Bool(if p == P::VersionAtLeast {
                ord.is_ge()
            } else {
                ord.is_lt()
            })
        }
        P::PathAppend => match (ev.force(a(0)), str_of(ev, a(1))) {
            (Value::Path(base), Some(rel)) => {
                Value::Path(Rc::from(super::eval::normalize(&format!("{base}/{rel}"))))
            }
            _ => Value::Unknown,
        },
        P::ZipAttrsWith => {
            let mut names: BTreeMap<Rc<str>, Vec<ThunkId>> = BTreeMap::new();
            for x in list_of(ev, a(1)) {
                if let Some(s) = attrs_of(ev, x) {
                    for (k, e) in s.entries.iter() {
                        names.entry(k.clone()).or_default().push(e.value);
                    }
                }
            }
            let mut pairs = Vec::new();
            for (k, vs) in names {
                let kt = ev.value_thunk(Value::Str(k.clone()));
                let lt = ev.value_thunk(list(vs));
                pairs.push((k, lazy2(ev, a(0), kt, lt)));
            }
            attrs_from(ev, pairs)
        }

        // ---- lib.types ----
        P::ListOf | P::NonEmptyListOf => {
            let e = type_of(ev, a(0));
            let inner = phrase(&e, noun_or_composite);
            let d = if p == P::ListOf {
                format!("list of {inner}")
            } else {
                format!("non-empty (list of {inner})")
            };
            let shape = TypeShape::List(Box::new(e.shape.clone()));
            ty(
                "listOf",
                d,
                Class::Composite,
                shape,
                SubOptions::Elem(e, Some(Segment::AnyIndex)),
            )
        }
        P::AttrsOf | P::LazyAttrsOf => {
            let e = type_of(ev, a(0));
            attrs_type(&e, p == P::LazyAttrsOf, Segment::AnyName)
        }
        P::AttrsWith => {
            let Some(s) = attrs_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let Some(et) = s.entries.get("elemType").map(|e| e.value) else {
                return Value::Unknown;
            };
            let e = type_of(ev, et);
            let lazy = s
                .entries
                .get("lazy")
                .and_then(|l| bool_of(ev, l.value))
                .unwrap_or(false);
            // A custom `placeholder` (`<user>`) still stands for any name; paths show `<name>`.
            attrs_type(&e, lazy, Segment::AnyName)
        }
        P::NullOr => {
            let e = type_of(ev, a(0));
            let d = format!(
                "null or {}",
                phrase(&e, |c| matches!(c, Class::Noun | Class::Conjunction))
            );
            let shape = TypeShape::NullOr(Box::new(e.shape.clone()));
            ty(
                "nullOr",
                d,
                Class::Conjunction,
                shape,
                SubOptions::Elem(e, None),
            )
        }
        P::Enum => {
            let values = list_of(ev, a(0));
            let shown: Vec<String> = values.iter().map(|&v| show(ev, v)).collect();
            // The manual shows strings, ints and bools; other values by their type.
            let doc: Vec<String> = values
                .iter()
                .zip(&shown)
                .map(|(&v, s)| match ev.force(v) {
                    Value::Str(_) | Value::Int(_) | Value::Bool(_) => s.clone(),
                    Value::Null => "<null>".into(),
                    Value::Float(_) => "<float>".into(),
                    _ => "<unknown>".into(),
                })
                .collect();
            let d = match doc.len() {
                0 => "impossible (empty enum)".to_owned(),
                1 => format!("value {} (singular enum)", doc[0]),
                _ => format!("one of {}", doc.join(", ")),
            };
            let class = if shown.len() < 2 {
                Class::Noun
            } else {
                Class::Conjunction
            };
            ty("enum", d, class, TypeShape::Enum(shown), SubOptions::None)
        }
        P::Either => {
            let (x, y) = (type_of(ev, a(0)), type_of(ev, a(1)));
            either(&x, &y)
        }
        P::OneOf => {
            let ts: Vec<Rc<Type>> = list_of(ev, a(0))
                .into_iter()
                .map(|t| type_of(ev, t))
                .collect();
            let Some((first, rest)) = ts.split_first() else {
                return Value::Unknown;
            };
            // `foldl' either head tail`, as nixpkgs does.
            let mut acc = first.clone();
            for t in rest {
                let Value::Type(next) = either(&acc, t) else {
                    break;
                };
                acc = next;
            }
            Value::Type(acc)
        }
        P::Submodule => {
            let modules = match ev.force(a(0)) {
                Value::List(l) => (*l).clone(),
                _ => vec![a(0)],
            };
            let description = submodule_description(ev, &modules, None);
            ty(
                "submodule",
                description,
                Class::None,
                TypeShape::Submodule,
                SubOptions::Modules {
                    modules,
                    special_args: None,
                },
            )
        }
        P::SubmoduleWith => {
            let Some(s) = attrs_of(ev, a(0)) else {
                return Value::Unknown;
            };
            let modules = s
                .entries
                .get("modules")
                .map(|m| list_of(ev, m.value))
                .unwrap_or_default();
            let special_args = s.entries.get("specialArgs").map(|m| m.value);
            let description = s
                .entries
                .get("description")
                .and_then(|d| ev.force_str(d.value))
                .map(|d| d.to_string());
            let description = submodule_description(ev, &modules, description);
            ty(
                "submodule",
                description,
                Class::None,
                TypeShape::Submodule,
                SubOptions::Modules {
                    modules,
                    special_args,
                },
            )
        }
        P::DeferredModuleWith => leaf("deferredModule", "module", Class::Noun, TypeShape::Any),
        P::AttrTag => leaf(
            "attrTag",
            "attribute-tagged union",
            Class::Noun,
            TypeShape::Attrs,
        ),
        P::FunctionTo => {
            let e = type_of(ev, a(0));
            let d = format!(
                "function that evaluates to a(n) {}",
                phrase(&e, noun_or_composite)
            );
            ty(
                "functionTo",
                d,
                Class::Composite,
                TypeShape::Function,
                SubOptions::Elem(e, Some(Segment::Name("<function body>".into()))),
            )
        }
        P::CoercedTo => {
            let (from, to) = (type_of(ev, a(0)), type_of(ev, a(2)));
            let d = format!(
                "{} or {} convertible to it",
                phrase(&to, |c| c == Class::Noun),
                phrase(&from, |c| c == Class::Noun)
            );
            let shape = TypeShape::OneOf(vec![to.shape.clone(), from.shape.clone()]);
            ty(
                "coercedTo",
                d,
                Class::None,
                shape,
                SubOptions::Elem(to, None),
            )
        }
        P::Uniq => Value::Type(type_of(ev, a(0))),
        P::UniqueType => Value::Type(type_of(ev, a(1))),
        P::AddCheck => Value::Type(type_of(ev, a(0))),
        P::PassAlong => {
            let e = type_of(ev, a(0));
            let d = format!(
                "{}, not containing newlines or colons",
                phrase(&e, |c| c == Class::Noun)
            );
            ty(
                "passwdEntry",
                d,
                Class::NonRestrictive,
                e.shape.clone(),
                SubOptions::None,
            )
        }
        P::StrMatching => match str_of(ev, a(0)) {
            Some(re) => ty(
                "strMatching",
                format!("string matching the pattern {re}"),
                Class::Noun,
                TypeShape::Str,
                SubOptions::None,
            ),
            None => Value::Unknown,
        },
        P::SeparatedString => match str_of(ev, a(0)) {
            Some(sep) => ty(
                "separatedString",
                format!("strings concatenated with {}", json_string(&sep)),
                Class::Noun,
                TypeShape::Str,
                SubOptions::None,
            ),
            None => Value::Unknown,
        },
        P::IntsBetween | P::NumbersBetween => {
            let (lo, hi) = (ev.force(a(0)), ev.force(a(1)));
            let show_n = |v: &Value| match v {
                Value::Int(n) => n.to_string(),
                Value::Float(f) => f.to_string(),
                _ => "?".into(),
            };
            let (kind, shape) = if p == P::IntsBetween {
                ("integer", TypeShape::Int)
            } else {
                ("integer or floating point number", TypeShape::Number)
            };
            ty(
                "between",
                format!(
                    "{kind} between {} and {} (both inclusive)",
                    show_n(&lo),
                    show_n(&hi)
                ),
                Class::Noun,
                shape,
                SubOptions::None,
            )
        }
        P::PathWith => {
            let s = attrs_of(ev, a(0));
            let get = |ev: &mut Evaluator<'_>, k: &str| {
                s.as_ref()
                    .and_then(|s| s.entries.get(k).copied())
                    .and_then(|e| bool_of(ev, e.value))
            };
            let absolute = get(ev, "absolute");
            let in_store = get(ev, "inStore");
            let d = format!(
                "{}path{}",
                match absolute {
                    Some(true) => "absolute ",
                    Some(false) => "relative ",
                    None => "",
                },
                match in_store {
                    Some(true) => " in the Nix store",
                    Some(false) => " not in the Nix store",
                    None => "",
                }
            );
            ty("path", d, Class::Noun, TypeShape::Path, SubOptions::None)
        }
        P::GetSubOptions => match ev.force(a(0)) {
            Value::Type(t) => {
                let prefix = str_path(ev, a(1)).unwrap_or_default();
                let segs = prefix.iter().map(|s| Segment::parse(s)).collect();
                Value::SubOptions(t, Rc::new(segs))
            }
            _ => Value::Unknown,
        },
        P::Format => {
            let label = str_of(ev, a(0)).unwrap_or_else(|| "value".into());
            let t = leaf("format", &label, Class::Noun, TypeShape::Any);
            let mut types = Attrs {
                open: true,
                ..Attrs::default()
            };
            let atom = leaf("atom", &label, Class::Noun, TypeShape::Any);
            insert(ev, &mut types, "atom", atom);
            let value = leaf("value", &label, Class::Noun, TypeShape::Any);
            insert(ev, &mut types, "value", value);
            let mut lib = Attrs {
                open: true,
                ..Attrs::default()
            };
            insert(ev, &mut lib, "types", Value::Attrs(Rc::new(types)));
            let mut out = Attrs {
                open: true,
                ..Attrs::default()
            };
            insert(ev, &mut out, "type", t);
            insert(ev, &mut out, "lib", Value::Attrs(Rc::new(lib)));
            Value::Attrs(Rc::new(out))
        }
    }
}

/// "submodule", or "open submodule of …" when a module sets `freeformType`.
fn submodule_description(
    ev: &mut Evaluator<'_>,
    modules: &[ThunkId],
    name: Option<String>,
) -> String {
    let name = name.unwrap_or_else(|| "submodule".into());
    let args = {
        let mut a = Attrs {
            open: true,
            ..Attrs::default()
        };
        a.entries.insert(
            Rc::from("lib"),
            Entry {
                value: ev.lib,
                pos: None,
            },
        );
        for k in ["config", "options"] {
            let open = ev.value_thunk(Value::Attrs(Rc::new(Attrs {
                open: true,
                ..Attrs::default()
            })));
            a.entries.insert(
                Rc::from(k),
                Entry {
                    value: open,
                    pos: None,
                },
            );
        }
        ev.value_thunk(Value::Attrs(Rc::new(a)))
    };
    for &m in modules {
        let mut v = ev.force(m);
        if let Value::Path(p) = &v {
            v = ev.import(&p.clone());
        }
        if matches!(v, Value::Lambda(_)) {
            v = ev.apply(v, args, None);
        }
        let Value::Attrs(a) = v else { continue };
        let mut freeform = a.entries.get("freeformType").map(|e| e.value);
        if freeform.is_none() {
            if let Some(cfg) = a
                .entries
                .get("config")
                .and_then(|c| ev.force_attrs(c.value))
            {
                if let Some(m) = cfg
                    .entries
                    .get("_module")
                    .and_then(|m| ev.force_attrs(m.value))
                {
                    freeform = m.entries.get("freeformType").map(|e| e.value);
                }
            }
        }
        if let Some(f) = freeform {
            if let Value::Type(t) = ev.force(f) {
                return format!("open {name} of {}", phrase(&t, noun_or_composite));
            }
        }
    }
    name
}

fn attrs_type(e: &Rc<Type>, lazy: bool, seg: Segment) -> Value {
    let d = format!(
        "{} of {}",
        if lazy {
            "lazy attribute set"
        } else {
            "attribute set"
        },
        phrase(e, noun_or_composite)
    );
    let shape = TypeShape::AttrsOf(Box::new(e.shape.clone()));
    ty(
        if lazy { "lazyAttrsOf" } else { "attrsOf" },
        d,
        Class::Composite,
        shape,
        SubOptions::Elem(e.clone(), Some(seg)),
    )
}

fn either(x: &Rc<Type>, y: &Rc<Type>) -> Value {
    let d = if x.class == Class::NonRestrictive {
        format!(
            "{}, or {}",
            x.description,
            phrase(y, |c| matches!(c, Class::Noun | Class::Conjunction))
        )
    } else {
        format!(
            "{} or {}",
            phrase(x, |c| matches!(c, Class::Noun | Class::Conjunction)),
            phrase(y, |c| matches!(
                c,
                Class::Noun | Class::Conjunction | Class::Composite
            ))
        )
    };
    let mut shapes = Vec::new();
    for t in [x, y] {
        match &t.shape {
            TypeShape::OneOf(v) => shapes.extend(v.iter().cloned()),
            s => shapes.push(s.clone()),
        }
    }
    ty(
        "either",
        d,
        Class::Conjunction,
        TypeShape::OneOf(shapes),
        SubOptions::None,
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn shape_for_name(name: &str) -> TypeShape {
    match name {
        "bool" => TypeShape::Bool,
        "int" => TypeShape::Int,
        "str" | "string" => TypeShape::Str,
        "path" => TypeShape::Path,
        "package" => TypeShape::Package,
        _ => TypeShape::Any,
    }
}

fn mk_package_option(ev: &mut Evaluator<'_>, args: &[ThunkId], site: Option<Pos>) -> Value {
    let name_v = ev.force(args[1]);
    let name_path: Vec<String> = match &name_v {
        Value::Str(s) => vec![s.to_string()],
        Value::List(l) => l.clone().iter().filter_map(|&t| str_of(ev, t)).collect(),
        _ => Vec::new(),
    };
    let opts = attrs_of(ev, args[2]);
    let get = |k: &str| {
        opts.as_ref()
            .and_then(|o| o.entries.get(k).map(|e| e.value))
    };
    let nullable = get("nullable")
        .and_then(|t| bool_of(ev, t))
        .unwrap_or(false);
    let pkgs_text = get("pkgsText")
        .and_then(|t| str_of(ev, t))
        .unwrap_or_else(|| "pkgs".into());
    let default_path: Option<Vec<String>> = match get("default") {
        None => Some(name_path.clone()),
        Some(t) => match ev.force(t) {
            Value::Null => None,
            Value::Str(s) => Some(vec![s.to_string()]),
            Value::List(l) => Some(l.clone().iter().filter_map(|&t| str_of(ev, t)).collect()),
            _ => Some(name_path.clone()),
        },
    };
    let extra = get("extraDescription")
        .and_then(|t| str_of(ev, t))
        .unwrap_or_default();
    let shown_name = name_path.join(".");
    let mut out = Attrs {
        pos: site,
        ..Attrs::default()
    };
    insert(ev, &mut out, "_type", string("option"));
    let package = leaf("package", "package", Class::Noun, TypeShape::Package);
    let t = if nullable {
        ty(
            "nullOr",
            "null or package".into(),
            Class::Conjunction,
            TypeShape::NullOr(Box::new(TypeShape::Package)),
            SubOptions::None,
        )
    } else {
        package
    };
    insert(ev, &mut out, "type", t);
    insert(
        ev,
        &mut out,
        "description",
        string(format!(
            "The {shown_name} package to use.{}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(" {extra}")
            }
        )),
    );
    let default_text = match default_path {
        Some(p) => format!("{pkgs_text}.{}", p.join(".")),
        None if nullable => "null".into(),
        None => String::new(),
    };
    if !default_text.is_empty() {
        let lit = ev.value_thunk(string("literalExpression"));
        let text = ev.value_thunk(string(default_text));
        let dt = attrs_from(ev, vec![(Rc::from("_type"), lit), (Rc::from("text"), text)]);
        insert(ev, &mut out, "defaultText", dt);
    }
    if let Some(e) = get("example") {
        out.entries.insert(
            Rc::from("example"),
            Entry {
                value: e,
                pos: None,
            },
        );
    }
    Value::Attrs(Rc::new(out))
}
