//! Responses in the selection set's order. The GraphQL spec's result is an *ordered* map:
//! an object's keys come in the order CollectFields meets them (fragments spread in place,
//! the first occurrence of a response key deciding its place). async-graphql 7 resolves an
//! object's fields concurrently and inserts each value as it completes, so a field that
//! waits on a DataLoader lands after the plain fields selected behind it
//! (`{ id plan level usageValue }` came back `id, usageValue, plan, level`).
//!
//! This module puts them back. Before execution, while the document is at hand,
//! [`super::run`] compiles the operation to run into a [`Plan`]: for each object position,
//! its response keys in order and, for each key with a selection of its own, the plan of its
//! value. Once the operation has run, [`Plan::order`] walks the response with it (every
//! event of a subscription too, on every transport). Each object is checked with one
//! merge-like pass, which is all an object already in order costs, and only an object found
//! out of order is rearranged, in place by swapping entries.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Value, Variables};
use std::collections::HashMap;

/// Objects (and plans) with more keys than this find a key by hashing instead of scanning.
const SCAN: usize = 16;

/// The key order of every object position of one operation.
#[derive(Debug)]
pub struct Plan {
    /// Node 0 is the operation's root.
    nodes: Vec<Node>,
}

/// One object position: the selection sets merged there, collected.
#[derive(Debug, Default)]
struct Node {
    keys: Vec<Key>,
    /// Key → its place in `keys`, for nodes too big to scan.
    index: Option<HashMap<Name, usize>>,
}

#[derive(Debug)]
struct Key {
    name: Name,
    /// The node of the key's value (each item of a list), if it selects fields.
    child: Option<usize>,
}

impl Node {
    fn place(&self, name: &Name) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(name).copied(),
            None => self.keys.iter().position(|k| k.name == *name),
        }
    }
}

impl Plan {
    /// The plan of the operation that will run (the spec's GetOperation), or `None` when
    /// there is none to run (a request error follows).
    pub fn compile(
        doc: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<Plan> {
        let operation = match (&doc.operations, operation_name) {
            (DocumentOperations::Single(op), None) => op,
            (DocumentOperations::Single(_), Some(_)) => return None,
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
            (DocumentOperations::Multiple(_), None) => return None,
        };
        let mut compiler = Compiler {
            fragments: &doc.fragments,
            variables,
            nodes: Vec::new(),
            memo: HashMap::new(),
        };
        compiler.node(&[&operation.node.selection_set.node]);
        Some(Plan {
            nodes: compiler.nodes,
        })
    }

    /// Puts every object of `data` in the plan's order.
    pub fn order(&self, data: &mut Value) {
        if !self.nodes.is_empty() {
            self.value(data, 0);
        }
    }

    fn value(&self, value: &mut Value, node: usize) {
        match value {
            Value::Object(map) => self.object(map, node),
            Value::List(items) => {
                for item in items {
                    self.value(item, node);
                }
            }
            _ => {}
        }
    }

    fn object(&self, map: &mut IndexMap<Name, Value>, node: usize) {
        let node = &self.nodes[node];
        let keys = &node.keys;
        // One pass: each entry is looked for ahead of the previous one's place (keys left
        // out by @skip or an error are passed over); the first that is not found there
        // means the object is out of order, and later ones are found from the start.
        let mut next = 0;
        let mut sorted = true;
        for (name, value) in map.iter_mut() {
            let place = if sorted {
                match keys[next..].iter().position(|k| k.name == *name) {
                    Some(i) => {
                        next += i + 1;
                        Some(next - 1)
                    }
                    None => {
                        sorted = false;
                        node.place(name)
                    }
                }
            } else {
                node.place(name)
            };
            if let Some(child) = place.and_then(|p| keys[p].child) {
                self.value(value, child);
            }
        }
        if !sorted {
            rearrange(map, keys);
        }
    }
}

/// Moves `map`'s entries into the order of `keys` by swapping (no allocation); entries
/// `keys` does not name (none, when the plan matches the operation) end up last.
fn rearrange(map: &mut IndexMap<Name, Value>, keys: &[Key]) {
    let mut place = 0;
    for key in keys {
        if place == map.len() {
            break;
        }
        let found = if map.len() > SCAN {
            map.get_index_of(&key.name)
        } else {
            map.keys()
                .skip(place)
                .position(|name| *name == key.name)
                .map(|i| place + i)
        };
        if let Some(i) = found {
            // Keys are unique, so one placed earlier is never found again: `i >= place`.
            if i != place {
                map.swap_indices(place, i);
            }
            place += 1;
        }
    }
}

struct Compiler<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    nodes: Vec<Node>,
    /// The node of each group of merged selection sets, by their addresses: a fragment
    /// spread in many places, or a list's item, is collected once.
    memo: HashMap<Vec<usize>, usize>,
}

/// The collected fields of one object position, in order: each response key with the
/// selection sets of every field that answers it.
type Collected<'a> = Vec<(&'a Name, Vec<&'a SelectionSet>)>;

impl<'a> Compiler<'a> {
    /// The node of the selection sets merged at one position (one, unless several fields
    /// share a response key). Registered before its children are compiled, so even a
    /// fragment cycle (which validation refuses later) ends.
    fn node(&mut self, sets: &[&'a SelectionSet]) -> usize {
        let address: Vec<usize> = sets
            .iter()
            .map(|set| *set as *const SelectionSet as usize)
            .collect();
        if let Some(&id) = self.memo.get(&address) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.memo.insert(address, id);

        let mut fields = Collected::new();
        let mut lookup = HashMap::new();
        let mut visited = Vec::new();
        for set in sets {
            self.collect(set, &mut fields, &mut lookup, &mut visited);
        }
        let keys: Vec<Key> = fields
            .into_iter()
            .map(|(name, sets)| Key {
                name: name.clone(),
                child: (!sets.is_empty()).then(|| self.node(&sets)),
            })
            .collect();
        let index = (keys.len() > SCAN).then(|| {
            keys.iter()
                .enumerate()
                .map(|(i, key)| (key.name.clone(), i))
                .collect()
        });
        self.nodes[id] = Node { keys, index };
        id
    }

    /// The spec's CollectFields: fragments spread in place (the schema has no interfaces or
    /// unions, so every type condition that validates applies), each fragment once, and
    /// the first field of a response key deciding its place.
    fn collect(
        &self,
        set: &'a SelectionSet,
        fields: &mut Collected<'a>,
        lookup: &mut HashMap<&'a str, usize>,
        visited: &mut Vec<&'a str>,
    ) {
        for item in &set.items {
            if !self.included(item.node.directives()) {
                continue;
            }
            match &item.node {
                Selection::Field(field) => add(fields, lookup, &field.node),
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, fields, lookup, visited)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if visited.contains(&name) {
                        continue;
                    }
                    visited.push(name);
                    if let Some(fragment) = self.fragments.get(name) {
                        self.collect(&fragment.node.selection_set.node, fields, lookup, visited);
                    }
                }
            }
        }
    }

    /// `@skip` and `@include` as async-graphql applies them before executing: a condition
    /// that is not a boolean (a missing variable) counts as false.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|directive| {
            let include = match directive.node.name.node.as_str() {
                "skip" => false,
                "include" => true,
                _ => return true,
            };
            let Some(condition) = directive.node.get_argument("if") else {
                return true;
            };
            let value = condition
                .node
                .clone()
                .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()));
            let value = matches!(value, Ok(Value::Boolean(true)));
            value == include
        })
    }
}

/// Adds a field under its response key: a new key goes last, a known one merges its
/// selection set into the key's (once per set).
fn add<'a>(fields: &mut Collected<'a>, lookup: &mut HashMap<&'a str, usize>, field: &'a Field) {
    let key = &field.response_key().node;
    let set = &field.selection_set.node;
    let at = if fields.len() > SCAN {
        if lookup.is_empty() {
            lookup.extend(fields.iter().enumerate().map(|(i, (k, _))| (k.as_str(), i)));
        }
        lookup.get(key.as_str()).copied()
    } else {
        fields.iter().position(|(k, _)| *k == key)
    };
    match at {
        Some(i) => {
            let sets = &mut fields[i].1;
            if !set.items.is_empty() && !sets.iter().any(|s| std::ptr::eq(*s, set)) {
                sets.push(set);
            }
        }
        None => {
            if !lookup.is_empty() {
                lookup.insert(key.as_str(), fields.len());
            }
            let sets = if set.items.is_empty() {
                Vec::new()
            } else {
                vec![set]
            };
            fields.push((key, sets));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(query: &str) -> Plan {
        plan_with(query, None, Variables::default())
    }

    fn plan_with(query: &str, operation: Option<&str>, variables: Variables) -> Plan {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        Plan::compile(&doc, operation, &variables).expect("an operation to run")
    }

    /// The keys of node `id`, as text.
    fn keys(plan: &Plan, id: usize) -> Vec<&str> {
        plan.nodes[id]
            .keys
            .iter()
            .map(|k| k.name.as_str())
            .collect()
    }

    /// The node of `path` (response keys from the root).
    fn at(plan: &Plan, path: &[&str]) -> usize {
        path.iter().fold(0, |node, key| {
            let node = &plan.nodes[node];
            let place = node.place(&Name::new(key)).expect("key in plan");
            node.keys[place].child.expect("key with a selection")
        })
    }

    #[test]
    fn fragments_are_flattened_in_place() {
        let p = plan("{ a ...F b ... on Query { c a d } e } fragment F on Query { f ... { g } a }");
        assert_eq!(keys(&p, 0), ["a", "f", "g", "b", "c", "d", "e"]);
    }

    #[test]
    fn aliases_are_the_keys() {
        let p = plan("{ x: a y: a a z: b }");
        assert_eq!(keys(&p, 0), ["x", "y", "a", "z"]);
    }

    #[test]
    fn a_fragment_spread_twice_counts_once() {
        let p = plan("{ ...F b ...F } fragment F on Query { a c }");
        assert_eq!(keys(&p, 0), ["a", "c", "b"]);
    }

    #[test]
    fn fields_of_one_key_merge_their_selections() {
        let p = plan("{ a { x y } b ...F } fragment F on Query { a { z x w { q } } }");
        assert_eq!(keys(&p, 0), ["a", "b"]);
        assert_eq!(keys(&p, at(&p, &["a"])), ["x", "y", "z", "w"]);
        assert_eq!(keys(&p, at(&p, &["a", "w"])), ["q"]);
    }

    #[test]
    fn skipped_selections_take_no_place() {
        // The first `a` is skipped, so `b` comes first (as async-graphql runs it).
        let p = plan("{ a @skip(if: true) b a }");
        assert_eq!(keys(&p, 0), ["b", "a"]);
        let vars = Variables::from_json(serde_json::json!({ "no": false }));
        let p = plan_with(
            "query($no: Boolean!) { a @include(if: $no) ...F @include(if: $no) b ... @skip(if: $no) { a } } fragment F on Query { c }",
            None,
            vars,
        );
        assert_eq!(keys(&p, 0), ["b", "a"]);
    }

    #[test]
    fn the_named_operation_is_compiled() {
        let doc = "query A { a b } query B { b a }";
        assert_eq!(
            keys(&plan_with(doc, Some("B"), Variables::default()), 0),
            ["b", "a"]
        );
        let doc = async_graphql::parser::parse_query(doc).unwrap();
        assert!(Plan::compile(&doc, None, &Variables::default()).is_none());
        assert!(Plan::compile(&doc, Some("C"), &Variables::default()).is_none());
    }

    #[test]
    fn shared_selections_are_compiled_once() {
        // Each fragment spreads the next twice: 2^30 fields once spread, one node each.
        let mut query = String::from("{ a { ...F0 } }\n");
        for i in 0..30 {
            query.push_str(&format!(
                "fragment F{i} on A {{ x{i} {{ ...F{} }} y{i} {{ ...F{} }} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str("fragment F30 on A { z }\n");
        let p = plan(&query);
        assert!(p.nodes.len() < 100, "{} nodes", p.nodes.len());
        // A cycle (refused by validation afterwards) ends too.
        let p = plan("{ a { ...C } } fragment C on A { b { ...C } c }");
        assert_eq!(keys(&p, at(&p, &["a", "b", "b"])), ["b", "c"]);
    }

    /// An object with its keys in the order given.
    fn obj(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (Name::new(k), v))
                .collect(),
        )
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn object_keys(value: &Value) -> Vec<&str> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn responses_are_put_in_order() {
        let p = plan(
            "{ list { id plan { uniqueId name } level { name } usageValue } one { b a } n: one { a b } }",
        );
        // As async-graphql answers: slow fields last, and keys missing (errors).
        let mut data = obj(vec![
            ("n", obj(vec![("b", s("1")), ("a", s("2"))])),
            ("one", obj(vec![("b", s("1")), ("a", s("2"))])),
            (
                "list",
                Value::List(vec![
                    obj(vec![
                        ("id", s("1")),
                        ("usageValue", s("TOTAL")),
                        ("plan", obj(vec![("name", s("P")), ("uniqueId", s("u"))])),
                        ("level", obj(vec![("name", s("L"))])),
                    ]),
                    obj(vec![
                        ("usageValue", s("TOTAL")),
                        ("id", s("2")),
                        ("level", obj(vec![("name", s("L"))])),
                    ]),
                    obj(vec![
                        ("id", s("3")),
                        ("plan", Value::Null),
                        ("level", Value::Null),
                        ("usageValue", s("X")),
                    ]),
                ]),
            ),
        ]);
        p.order(&mut data);
        let Value::Object(root) = &data else {
            unreachable!()
        };
        assert_eq!(object_keys(&data), ["list", "one", "n"]);
        assert_eq!(object_keys(&root["one"]), ["b", "a"]);
        assert_eq!(object_keys(&root["n"]), ["a", "b"]);
        let Value::List(items) = &root["list"] else {
            unreachable!()
        };
        assert_eq!(
            object_keys(&items[0]),
            ["id", "plan", "level", "usageValue"]
        );
        assert_eq!(object_keys(&items[1]), ["id", "level", "usageValue"]);
        assert_eq!(
            object_keys(&items[2]),
            ["id", "plan", "level", "usageValue"]
        );
        let Value::Object(first) = &items[0] else {
            unreachable!()
        };
        assert_eq!(object_keys(&first["plan"]), ["uniqueId", "name"]);
        // The values went with their keys.
        assert_eq!(first["usageValue"], s("TOTAL"));
        assert_eq!(first["id"], s("1"));
        let Value::Object(n) = &root["n"] else {
            unreachable!()
        };
        assert_eq!((&n["a"], &n["b"]), (&s("2"), &s("1")));
    }

    #[test]
    fn an_object_in_order_is_left_alone() {
        let p = plan("{ a b { c d } e }");
        let before = obj(vec![
            ("a", s("1")),
            ("b", obj(vec![("c", s("2")), ("d", s("3"))])),
        ]);
        let mut data = before.clone();
        p.order(&mut data);
        assert_eq!(
            serde_json::to_string(&data).unwrap(),
            serde_json::to_string(&before).unwrap()
        );
    }

    #[test]
    fn big_objects_are_put_in_order_too() {
        let fields: Vec<String> = (0..40).map(|i| format!("f{i}")).collect();
        let p = plan(&format!("{{ {} }}", fields.join(" ")));
        let mut data = obj(fields
            .iter()
            .rev()
            .filter(|f| *f != "f7")
            .map(|f| (f.as_str(), s(f)))
            .collect());
        p.order(&mut data);
        let expected: Vec<&str> = fields
            .iter()
            .map(String::as_str)
            .filter(|f| *f != "f7")
            .collect();
        assert_eq!(object_keys(&data), expected);
        let Value::Object(map) = &data else {
            unreachable!()
        };
        assert!(map.iter().all(|(k, v)| *v == s(k.as_str())));
    }

    /// A schema whose `slow` fields answer after their siblings, as a DataLoader's do.
    mod tiny {
        use async_graphql::{Object, Schema, SchemaBuilder, Subscription};
        use futures_util::Stream;

        pub struct Item;

        #[Object]
        impl Item {
            async fn slow(&self) -> i32 {
                tokio::task::yield_now().await;
                1
            }
            async fn fast(&self) -> i32 {
                2
            }
            async fn item(&self) -> Item {
                Item
            }
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn item(&self) -> Item {
                Item
            }
            async fn items(&self) -> Vec<Item> {
                vec![Item, Item]
            }
        }

        pub struct Events;

        #[Subscription]
        impl Events {
            async fn events(&self) -> impl Stream<Item = Item> {
                futures_util::stream::iter([Item, Item])
            }
        }

        pub fn schema() -> SchemaBuilder<Query, async_graphql::EmptyMutation, Events> {
            Schema::build(Query, async_graphql::EmptyMutation, Events)
        }
    }

    fn keys_of(data: &Value, path: &[&str]) -> Vec<String> {
        let value = path.iter().fold(data, |value, key| match value {
            Value::Object(map) => &map[*key],
            Value::List(items) => &items[key.parse::<usize>().unwrap()],
            other => panic!("{other:?} at {key}"),
        });
        object_keys(value).into_iter().map(String::from).collect()
    }

    #[tokio::test]
    async fn operations_are_answered_in_order_on_every_transport() {
        use crate::graphql::cost::Bounded;
        use crate::graphql::run::{Runner, Transport};
        use futures_util::StreamExt;

        const QUERY: &str = "{ items { slow fast item { slow fast } } item { fast slow } }";
        // async-graphql alone answers the slow fields last (were this to change, the
        // ordering could go).
        let plain = tiny::schema().finish().execute(QUERY).await.data;
        assert_eq!(keys_of(&plain, &["items", "0"]), ["fast", "item", "slow"]);

        let bounds = Bounded {
            max_fields: 100,
            max_depth: 10,
        };
        let runner = Runner::new(tiny::schema().finish(), || tiny::schema().finish(), bounds);
        let outcome = runner.execute(QUERY.into(), Transport::Http).await;
        assert!(outcome.executed);
        let data = outcome.response.data;
        assert_eq!(keys_of(&data, &[]), ["items", "item"]);
        assert_eq!(keys_of(&data, &["items", "1"]), ["slow", "fast", "item"]);
        assert_eq!(keys_of(&data, &["items", "1", "item"]), ["slow", "fast"]);
        assert_eq!(keys_of(&data, &["item"]), ["fast", "slow"]);
        let over_ws: Vec<_> = runner.execute_stream(QUERY.into()).collect().await;
        assert_eq!(
            keys_of(&over_ws[0].data, &["items", "0"]),
            ["slow", "fast", "item"]
        );

        // Every event of a subscription is put in order.
        let query = "subscription { events { slow fast item { fast slow } } }";
        let plain: Vec<_> = tiny::schema()
            .finish()
            .execute_stream(query)
            .collect()
            .await;
        assert_eq!(
            keys_of(&plain[0].data, &["events"]),
            ["fast", "item", "slow"]
        );
        let events: Vec<_> = runner.execute_stream(query.into()).collect().await;
        assert_eq!(events.len(), 2);
        for event in events {
            assert_eq!(keys_of(&event.data, &["events"]), ["slow", "fast", "item"]);
            assert_eq!(keys_of(&event.data, &["events", "item"]), ["fast", "slow"]);
        }
        // Over HTTP a subscription is a request error.
        let refused = runner.execute(query.into(), Transport::Http).await;
        assert!(!refused.executed);
        assert_eq!(
            refused.response.errors[0]
                .extensions
                .as_ref()
                .unwrap()
                .get("code"),
            Some(&Value::from("BAD_REQUEST"))
        );
    }

    /// `value` with, in every object, the keys holding objects or lists (relations, loaded
    /// later) after the others.
    fn relations_last(value: Value) -> Value {
        match value {
            Value::Object(map) => {
                let (relations, plain): (Vec<_>, Vec<_>) = map
                    .into_iter()
                    .map(|(k, v)| (k, relations_last(v)))
                    .partition(|(_, v)| matches!(v, Value::Object(_) | Value::List(_)));
                Value::Object(plain.into_iter().chain(relations).collect())
            }
            Value::List(items) => Value::List(items.into_iter().map(relations_last).collect()),
            other => other,
        }
    }

    /// How many objects of `value` have their keys in another order than in `ordered`.
    fn out_of_order(value: &Value, ordered: &Value) -> usize {
        match (value, ordered) {
            (Value::Object(a), Value::Object(b)) => {
                usize::from(!a.keys().eq(b.keys()))
                    + a.iter().map(|(k, v)| out_of_order(v, &b[k])).sum::<usize>()
            }
            (Value::List(a), Value::List(b)) => {
                a.iter().zip(b).map(|(a, b)| out_of_order(a, b)).sum()
            }
            _ => 0,
        }
    }

    /// `value` with every object's keys in reverse order.
    fn reverse(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .rev()
                    .map(|(k, v)| (k, reverse(v)))
                    .collect(),
            ),
            Value::List(items) => Value::List(items.into_iter().map(reverse).collect()),
            other => other,
        }
    }

    /// An accounts page of 50 as the SPA asks for it, every object answered out of order;
    /// prints what compiling the plan and putting a response in order cost.
    #[test]
    fn cost_on_an_accounts_page() {
        const PAGE: &str = "query Page($first: Int!) { accounts(first: $first) {
            totalCount pageInfo { hasNextPage endCursor }
            edges { cursor node { id name linkIdentifier
                subscriptions { id product { id name } plan { id uniqueId name } }
                latestUsage { quantity measuredAt metric { id name unit } }
                link { state companyName reason } } } } }";
        let account = |i: usize| {
            let sub = |id: &str, product: &str, plan: Value| {
                obj(vec![
                    ("id", s(id)),
                    ("product", obj(vec![("id", s(id)), ("name", s(product))])),
                    ("plan", plan),
                ])
            };
            let usage = |id: &str, metric: &str, unit: &str| {
                obj(vec![
                    ("quantity", Value::from(1.5)),
                    ("measuredAt", s("2026-01-01T00:00:00Z")),
                    (
                        "metric",
                        obj(vec![("id", s(id)), ("name", s(metric)), ("unit", s(unit))]),
                    ),
                ])
            };
            let node = obj(vec![
                ("id", s(&i.to_string())),
                ("name", s(&format!("acct-{i}"))),
                ("linkIdentifier", Value::Null),
                (
                    "subscriptions",
                    Value::List(vec![
                        sub(
                            "1",
                            "Backup",
                            obj(vec![
                                ("id", s("1")),
                                ("uniqueId", s("P20")),
                                ("name", s("20 GB")),
                            ]),
                        ),
                        sub("2", "Seats", Value::Null),
                    ]),
                ),
                (
                    "latestUsage",
                    Value::List(vec![
                        usage("1", "Storage", "GB"),
                        usage("2", "Seats", "COUNT"),
                    ]),
                ),
                (
                    "link",
                    obj(vec![
                        ("state", s("LINKED")),
                        ("companyName", s("Acme")),
                        ("reason", s("name")),
                    ]),
                ),
            ]);
            obj(vec![("cursor", s("c")), ("node", node)])
        };
        let in_order = obj(vec![(
            "accounts",
            obj(vec![
                ("totalCount", Value::from(1000)),
                (
                    "pageInfo",
                    obj(vec![
                        ("hasNextPage", Value::from(true)),
                        ("endCursor", s("c")),
                    ]),
                ),
                ("edges", Value::List((0..50).map(account).collect())),
            ]),
        )]);
        let variables = Variables::from_json(serde_json::json!({ "first": 50 }));
        let doc = async_graphql::parser::parse_query(PAGE).unwrap();
        let rounds = 200;

        let mut compiles: Vec<_> = (0..rounds)
            .map(|_| {
                let started = std::time::Instant::now();
                std::hint::black_box(Plan::compile(&doc, None, &variables));
                started.elapsed()
            })
            .collect();
        compiles.sort();
        let compile = compiles[compiles.len() / 2];

        // Each round orders a fresh copy, as the server orders a response it just built
        // (warm in the cache); only `order` is timed, and the median round is reported (a
        // mean on a shared machine mostly measures the rounds that lost the processor).
        let plan = Plan::compile(&doc, None, &variables).unwrap();
        let text = |v: &Value| serde_json::to_string(v).unwrap();
        let time = |shape: &Value| {
            let mut times: Vec<_> = (0..rounds)
                .map(|_| {
                    let mut data = shape.clone();
                    let started = std::time::Instant::now();
                    plan.order(std::hint::black_box(&mut data));
                    let took = started.elapsed();
                    std::hint::black_box(&data);
                    took
                })
                .collect();
            times.sort();
            let mut data = shape.clone();
            plan.order(&mut data);
            assert_eq!(text(&data), text(&in_order));
            (times[times.len() / 2], out_of_order(shape, &in_order))
        };
        let (check, _) = time(&in_order);
        let (answered, answered_objects) = time(&relations_last(in_order.clone()));
        let (reversed, reversed_objects) = time(&reverse(in_order.clone()));
        assert!(answered_objects > 0 && reversed_objects > answered_objects);

        // The root, accounts, pageInfo, and per account: edge, node, link, 2 × (subscription,
        // product) + a plan, 2 × (sample, metric).
        let objects = 3 + 50 * (3 + 4 + 1 + 4);
        println!(
            "accounts page of 50 ({objects} objects), median per response ({} build): compile \
             {compile:?}; order it when already in order {check:?}; with relations last, as \
             async-graphql answers ({answered_objects} objects out of order) {answered:?}; \
             with every object reversed ({reversed_objects} out of order) {reversed:?}",
            if cfg!(debug_assertions) {
                "unoptimised"
            } else {
                "optimised"
            }
        );
    }
}
