/// The PostgreSQL type of a column the program writes (read models, the log). A closed set, so
/// a cast to it is a constant of the program, never text from elsewhere.
public enum SQLType: String, Sendable, Hashable, CaseIterable {
    case text, numeric, timestamptz, integer, bigint, boolean, jsonb, uuid, bytea
}
