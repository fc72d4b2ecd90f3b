//! Nix 2.8's builtins and the names its base environment binds without `builtins.`.
//!
//! Signatures use the argument names Nix itself reports; the descriptions are ours.

/// One builtin: its name, whether it is also a bare global, its signature and a one-line description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// Name inside the `builtins` attribute set.
    pub name: &'static str,
    /// Bound in the base environment too (usable without `builtins.`).
    pub global: bool,
    /// Functions show their arguments; constants their type.
    pub signature: &'static str,
    /// One line saying what it does.
    pub description: &'static str,
}

impl Builtin {
    /// Whether this builtin is a function (as opposed to a constant such as `true` or `nixVersion`).
    pub fn is_function(&self) -> bool {
        self.signature.contains("->")
    }
}

macro_rules! builtins_table {
    ($( $name:literal $global:ident $sig:literal $desc:literal ;)*) => {
        /// Every builtin of Nix 2.8, sorted by name.
        pub const BUILTINS: &[Builtin] = &[
            $( Builtin { name: $name, global: builtins_table!(@g $global), signature: $sig, description: $desc }, )*
        ];
    };
    (@g global) => { true };
    (@g scoped) => { false };
}

builtins_table! {
    "abort" global "abort :: String -> a" "Stops evaluation right away with the given message; `tryEval` cannot catch it.";
    "add" scoped "add :: Number -> Number -> Number" "Sums two numbers (the function behind `+` on numbers).";
    "addErrorContext" scoped "addErrorContext :: String -> a -> a" "Returns the second argument, attaching the message to any error raised while forcing it.";
    "all" scoped "all :: (a -> Bool) -> [a] -> Bool" "True when the predicate holds for every list element (true for an empty list).";
    "any" scoped "any :: (a -> Bool) -> [a] -> Bool" "True when the predicate holds for at least one list element.";
    "appendContext" scoped "appendContext :: String -> AttrSet -> String" "Returns the string with extra string context (store path dependencies) attached.";
    "attrNames" scoped "attrNames :: AttrSet -> [String]" "The names of a set's attributes, in sorted order.";
    "attrValues" scoped "attrValues :: AttrSet -> [a]" "The values of a set's attributes, ordered by attribute name.";
    "baseNameOf" global "baseNameOf :: String -> String" "The last component of a path-like string (what follows the final slash).";
    "bitAnd" scoped "bitAnd :: Int -> Int -> Int" "Bitwise AND of two integers.";
    "bitOr" scoped "bitOr :: Int -> Int -> Int" "Bitwise OR of two integers.";
    "bitXor" scoped "bitXor :: Int -> Int -> Int" "Bitwise exclusive OR of two integers.";
    "builtins" global "builtins :: AttrSet" "The set holding every builtin function and constant.";
    "catAttrs" scoped "catAttrs :: String -> [AttrSet] -> [a]" "Collects the named attribute from each set of the list that has it.";
    "ceil" scoped "ceil :: Float -> Int" "Rounds a number up to the nearest integer.";
    "compareVersions" scoped "compareVersions :: String -> String -> Int" "Compares two version strings: -1, 0 or 1 as the first is older, equal or newer.";
    "concatLists" scoped "concatLists :: [[a]] -> [a]" "Flattens a list of lists by one level.";
    "concatMap" scoped "concatMap :: (a -> [b]) -> [a] -> [b]" "Maps each element to a list and joins the results.";
    "concatStringsSep" scoped "concatStringsSep :: String -> [String] -> String" "Joins strings with a separator between each pair.";
    "currentSystem" scoped "currentSystem :: String" "The platform Nix runs on, such as \"x86_64-linux\" (impure).";
    "currentTime" scoped "currentTime :: Int" "Seconds since the Unix epoch when evaluation started (impure).";
    "deepSeq" scoped "deepSeq :: a -> b -> b" "Forces the first value completely (recursively), then returns the second.";
    "derivation" global "derivation :: AttrSet -> Derivation" "Describes a build: needs `name`, `system` and `builder`; returns the derivation set with its outputs.";
    "derivationStrict" global "derivationStrict :: AttrSet -> AttrSet" "The primitive behind `derivation`: writes the .drv and returns its output paths.";
    "dirOf" global "dirOf :: String -> String" "Everything before the last slash of a path-like value.";
    "div" scoped "div :: Number -> Number -> Number" "Divides two numbers (integer division for two integers).";
    "elem" scoped "elem :: a -> [a] -> Bool" "Whether a value occurs in a list.";
    "elemAt" scoped "elemAt :: [a] -> Int -> a" "The list element at a zero-based index; errors when out of range.";
    "false" global "false :: Bool" "The boolean false.";
    "fetchGit" global "fetchGit :: (String | AttrSet) -> AttrSet" "Copies a Git revision into the store at evaluation time and returns its path and metadata.";
    "fetchMercurial" global "fetchMercurial :: (String | AttrSet) -> AttrSet" "Copies a Mercurial revision into the store at evaluation time.";
    "fetchTarball" global "fetchTarball :: (String | AttrSet) -> Path" "Downloads and unpacks an archive at evaluation time, returning the unpacked store path.";
    "fetchTree" global "fetchTree :: (String | AttrSet) -> AttrSet" "Fetches a source tree described by a flake-style reference (experimental).";
    "fetchurl" scoped "fetchurl :: String -> Path" "Downloads a single file at evaluation time into the store.";
    "filter" scoped "filter :: (a -> Bool) -> [a] -> [a]" "Keeps the list elements for which the predicate is true.";
    "filterSource" scoped "filterSource :: (Path -> String -> Bool) -> Path -> Path" "Copies a directory to the store, keeping only the entries the predicate accepts.";
    "findFile" scoped "findFile :: [AttrSet] -> String -> Path" "Looks a name up in a search path list; what `<name>` desugars to.";
    "floor" scoped "floor :: Float -> Int" "Rounds a number down to the nearest integer.";
    "foldl'" scoped "foldl' :: (b -> a -> b) -> b -> [a] -> b" "Left fold over a list, forcing the accumulator at each step.";
    "fromJSON" scoped "fromJSON :: String -> a" "Parses a JSON text into the matching Nix value.";
    "fromTOML" global "fromTOML :: String -> AttrSet" "Parses a TOML document into a set.";
    "functionArgs" scoped "functionArgs :: Function -> AttrSet" "For a function taking a set pattern, maps each formal name to whether it has a default.";
    "genList" scoped "genList :: (Int -> a) -> Int -> [a]" "Builds a list of the given length by calling the generator with each index.";
    "genericClosure" scoped "genericClosure :: AttrSet -> [AttrSet]" "Computes the transitive closure of `startSet` under `operator`, deduplicated by `key`.";
    "getAttr" scoped "getAttr :: String -> AttrSet -> a" "The attribute with a computed name; like `set.${name}`.";
    "getContext" scoped "getContext :: String -> AttrSet" "Describes the store paths a string depends on.";
    "getEnv" scoped "getEnv :: String -> String" "The value of an environment variable, or \"\" when unset (impure).";
    "getFlake" scoped "getFlake :: String -> AttrSet" "Evaluates a flake given a locked reference and returns its outputs and metadata.";
    "groupBy" scoped "groupBy :: (a -> String) -> [a] -> AttrSet" "Buckets list elements into a set of lists keyed by the function's result.";
    "hasAttr" scoped "hasAttr :: String -> AttrSet -> Bool" "Whether a set has an attribute with a computed name; like `set ? ${name}`.";
    "hasContext" scoped "hasContext :: String -> Bool" "Whether a string carries any store path context.";
    "hashFile" scoped "hashFile :: String -> Path -> String" "Hashes a file's contents with md5, sha1, sha256 or sha512, in base 16.";
    "hashString" scoped "hashString :: String -> String -> String" "Hashes a string with md5, sha1, sha256 or sha512, in base 16.";
    "head" scoped "head :: [a] -> a" "The first element of a list; errors on an empty list.";
    "import" global "import :: Path -> a" "Loads and evaluates a Nix file (a directory means its default.nix).";
    "intersectAttrs" scoped "intersectAttrs :: AttrSet -> AttrSet -> AttrSet" "The attributes of the second set whose names also occur in the first.";
    "isAttrs" scoped "isAttrs :: a -> Bool" "Whether the value is a set.";
    "isBool" scoped "isBool :: a -> Bool" "Whether the value is a boolean.";
    "isFloat" scoped "isFloat :: a -> Bool" "Whether the value is a float.";
    "isFunction" scoped "isFunction :: a -> Bool" "Whether the value is a function.";
    "isInt" scoped "isInt :: a -> Bool" "Whether the value is an integer.";
    "isList" scoped "isList :: a -> Bool" "Whether the value is a list.";
    "isNull" global "isNull :: a -> Bool" "Whether the value is null (prefer `x == null`).";
    "isPath" scoped "isPath :: a -> Bool" "Whether the value is a path.";
    "isString" scoped "isString :: a -> Bool" "Whether the value is a string.";
    "langVersion" scoped "langVersion :: Int" "The version of the Nix language this evaluator speaks.";
    "length" scoped "length :: [a] -> Int" "The number of elements in a list.";
    "lessThan" scoped "lessThan :: a -> a -> Bool" "Compares two numbers or strings; the function behind `<`.";
    "listToAttrs" scoped "listToAttrs :: [{ name, value }] -> AttrSet" "Builds a set from a list of name/value pairs; the first occurrence of a name wins.";
    "map" global "map :: (a -> b) -> [a] -> [b]" "Applies a function to every list element.";
    "mapAttrs" scoped "mapAttrs :: (String -> a -> b) -> AttrSet -> AttrSet" "Transforms each attribute value, given its name and value.";
    "match" scoped "match :: String -> String -> [String]?" "Matches a whole string against a POSIX regex: null on no match, else the capture groups.";
    "mul" scoped "mul :: Number -> Number -> Number" "Multiplies two numbers.";
    "nixPath" scoped "nixPath :: [AttrSet]" "The search path used by `<...>` lookups, from NIX_PATH and -I.";
    "nixVersion" scoped "nixVersion :: String" "The version of the running Nix.";
    "null" global "null :: Null" "The null value.";
    "parseDrvName" scoped "parseDrvName :: String -> { name, version }" "Splits a package name such as \"hello-2.12\" into name and version.";
    "partition" scoped "partition :: (a -> Bool) -> [a] -> { right, wrong }" "Splits a list into the elements that satisfy the predicate and those that do not.";
    "path" scoped "path :: AttrSet -> Path" "Copies a path into the store with optional name, filter and expected hash.";
    "pathExists" scoped "pathExists :: Path -> Bool" "Whether a file or directory exists at the path.";
    "placeholder" global "placeholder :: String -> String" "A stand-in string that the builder replaces with the named output's path.";
    "readDir" scoped "readDir :: Path -> AttrSet" "The entries of a directory, each mapped to its type (regular, directory, symlink, unknown).";
    "readFile" scoped "readFile :: Path -> String" "A file's contents as a string.";
    "removeAttrs" global "removeAttrs :: AttrSet -> [String] -> AttrSet" "The set without the listed attribute names.";
    "replaceStrings" scoped "replaceStrings :: [String] -> [String] -> String -> String" "Replaces each occurrence of the `from` strings by the matching `to` strings.";
    "scopedImport" global "scopedImport :: AttrSet -> Path -> a" "Like `import`, with the given set's attributes added to the file's scope.";
    "seq" scoped "seq :: a -> b -> b" "Forces the first value shallowly, then returns the second.";
    "sort" scoped "sort :: (a -> a -> Bool) -> [a] -> [a]" "Sorts a list stably by a less-than comparator.";
    "split" scoped "split :: String -> String -> [String | [String]]" "Splits a string on a POSIX regex, keeping capture groups as lists between the pieces.";
    "splitVersion" scoped "splitVersion :: String -> [String]" "Breaks a version string into the components `compareVersions` uses.";
    "storeDir" scoped "storeDir :: String" "The store directory, usually \"/nix/store\".";
    "storePath" scoped "storePath :: Path -> String" "Turns an existing store path into a string that depends on it.";
    "stringLength" scoped "stringLength :: String -> Int" "The length of a string in bytes.";
    "sub" scoped "sub :: Number -> Number -> Number" "Subtracts the second number from the first.";
    "substring" scoped "substring :: Int -> Int -> String -> String" "The part of a string from a start offset with at most the given length (in bytes).";
    "tail" scoped "tail :: [a] -> [a]" "A list without its first element; errors on an empty list.";
    "throw" global "throw :: String -> a" "Raises an error with the message; unlike `abort`, `tryEval` can catch it.";
    "toFile" scoped "toFile :: String -> String -> Path" "Writes a string to a store file with the given name and returns its path.";
    "toJSON" scoped "toJSON :: a -> String" "Serialises a value as JSON (derivations become their output path).";
    "toPath" scoped "toPath :: String -> Path" "Deprecated: turns an absolute path string into a path-like string.";
    "toString" global "toString :: a -> String" "Converts strings, numbers, paths, booleans, null, lists and derivations to a string.";
    "toXML" scoped "toXML :: a -> String" "Serialises a value in Nix's XML format.";
    "trace" scoped "trace :: a -> b -> b" "Prints the first value to stderr while evaluating, then returns the second.";
    "true" global "true :: Bool" "The boolean true.";
    "tryEval" scoped "tryEval :: a -> { success, value }" "Evaluates shallowly, catching `throw` and `assert` failures into a success flag.";
    "typeOf" scoped "typeOf :: a -> String" "The name of a value's type: int, bool, string, path, null, set, list, lambda or float.";
    "unsafeDiscardOutputDependency" scoped "unsafeDiscardOutputDependency :: String -> String" "Turns a dependency on a derivation's outputs into one on the .drv file alone.";
    "unsafeDiscardStringContext" scoped "unsafeDiscardStringContext :: String -> String" "The same string with its store path context dropped.";
    "unsafeGetAttrPos" scoped "unsafeGetAttrPos :: String -> AttrSet -> { file, line, column }?" "Where an attribute was defined in source, or null.";
    "zipAttrsWith" scoped "zipAttrsWith :: (String -> [a] -> b) -> [AttrSet] -> AttrSet" "Merges sets by name, calling the function with each name and the list of its values.";
}

/// Looks a builtin up by its name inside `builtins`.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS
        .binary_search_by(|b| b.name.cmp(name))
        .ok()
        .map(|i| &BUILTINS[i])
}

/// The builtin a bare identifier refers to: a global name, or any builtin spelled `__name`.
pub fn lookup_global(name: &str) -> Option<&'static Builtin> {
    if let Some(rest) = name.strip_prefix("__") {
        return lookup(rest);
    }
    lookup(name).filter(|b| b.global)
}

/// Global names that are not builtins themselves.
pub const EXTRA_GLOBALS: &[(&str, &str)] = &[(
    "__curPos",
    "The position (file, line, column) where it is written; what `__curPos` desugars to.",
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(BUILTINS.windows(2).all(|w| w[0].name < w[1].name));
        assert_eq!(
            BUILTINS.len(),
            110,
            "`builtins.attrNames builtins` has 110 names in Nix 2.8"
        );
        for b in BUILTINS {
            assert!(b.signature.starts_with(b.name), "{}", b.name);
            assert!(!b.description.is_empty());
        }
    }

    #[test]
    fn globals_and_dunder_names() {
        assert!(lookup_global("map").is_some());
        assert!(lookup_global("attrNames").is_none());
        assert_eq!(
            lookup_global("__attrNames").map(|b| b.name),
            Some("attrNames")
        );
        assert!(lookup("foldl'").unwrap().is_function());
        assert!(!lookup("nixVersion").unwrap().is_function());
    }
}
