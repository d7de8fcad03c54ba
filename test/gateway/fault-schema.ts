export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/** SDL of the test subgraphs of the fault tests (without the federation link line). */
export const CATALOG_SDL =
  'type Query { hello: String product: Product } type Product @key(fields: "id") { id: ID! name: String }';
export const INVENTORY_SDL =
  'type Query { stock: Int } type Mutation { restock: Int } type Product @key(fields: "id") { id: ID! stock: Int }';
