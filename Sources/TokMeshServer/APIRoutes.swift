// APIRoutes: assembles the frozen router of every JSON route (health, local, business, admin).
// The table is built once at start-up; `routeTable` is what the OpenAPI drift test compares.
import TokMeshHTTP

enum APIRoutes {
    static func router(_ node: NodeContext) -> Router<RouteSpec> {
        let rows = LocalRoutes.routes(node) + SessionRoutes.routes(node) + AdminRoutes.routes(node) + BackupRoutes.routes(node) + MetricsRoute.routes(node)
            + ConfigRoutes.routes(node)
        return Router(rows.map { Route($0.0, $0.1, $0.2) })
    }
}
