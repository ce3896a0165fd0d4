// The BI views through the PostgreSQL JDBC driver, the way Metabase talks to
// the database: a read-only role over TCP with a password, table and column
// discovery through DatabaseMetaData, then queries on every view.
//
//   javac -cp /usr/share/java/postgresql.jar -d OUT ViewsTest.java
//   PGPASSWORD=... java -cp /usr/share/java/postgresql.jar:OUT ViewsTest JDBC_URL USER
//
// Checks, failing with exit status 1:
//   - the five views are listed by getTables (type VIEW) with a description;
//   - getColumns gives every column a plain JDBC type (no ARRAY, STRUCT,
//     OTHER, JAVA_OBJECT, DISTINCT, REF, SQLXML, BLOB: what BI tools cannot
//     chart) and a description (the COMMENT);
//   - SELECT * on each view works, the result metadata agrees, and every
//     value arrives as a plain Java value (String, Integer, Long, BigDecimal,
//     Date, Timestamp), never a java.sql.Array or PGobject;
//   - typical dashboard queries work, with bind parameters, past the driver's
//     switch to server-side prepared statements (prepareThreshold);
//   - the role cannot read credit.score_history, credit.score_alerts or the
//     application tables, and cannot acknowledge alerts (SQLSTATE 42501).
// Run by tests/clients/run.sh, which creates the role and the data.

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

public class ViewsTest {
    static final String[] VIEWS = {
        "current_scores", "portfolio_summary", "segment_migration", "decision_summary", "open_alerts"
    };
    static final Set<Integer> NOT_PLAIN = Set.of(
        Types.ARRAY, Types.STRUCT, Types.OTHER, Types.JAVA_OBJECT, Types.DISTINCT,
        Types.REF, Types.SQLXML, Types.BLOB, Types.CLOB, Types.NCLOB, Types.BINARY,
        Types.VARBINARY, Types.LONGVARBINARY);
    static final Set<Class<?>> PLAIN_VALUES = Set.of(
        String.class, Integer.class, Long.class, Short.class, BigDecimal.class, Boolean.class,
        java.sql.Date.class, java.sql.Timestamp.class, Double.class);

    static final List<String> failures = new ArrayList<>();

    static void check(boolean ok, String what) {
        if (!ok) {
            failures.add(what);
            System.out.println("FAIL: " + what);
        }
    }

    static String jdbcTypeName(int type) {
        try {
            for (java.lang.reflect.Field f : Types.class.getFields()) {
                if (f.getInt(null) == type) {
                    return f.getName();
                }
            }
        } catch (IllegalAccessException e) {
            // fall through
        }
        return Integer.toString(type);
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PGPASSWORD=... java ViewsTest JDBC_URL USER");
            System.exit(2);
        }
        String password = System.getenv("PGPASSWORD");
        if (password == null) {
            System.err.println("ViewsTest: set PGPASSWORD");
            System.exit(2);
        }
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", password);
        props.setProperty("ApplicationName", "credit_scoring ViewsTest");

        try (Connection conn = DriverManager.getConnection(args[0], props)) {
            // Metabase marks its connections read-only.
            conn.setReadOnly(true);
            DatabaseMetaData md = conn.getMetaData();
            System.out.println("driver: " + md.getDriverName() + " " + md.getDriverVersion()
                + "; server: " + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion()
                + "; user: " + md.getUserName());

            // Discovery, as the BI tool's schema sync does it.
            for (String view : VIEWS) {
                try (ResultSet t = md.getTables(null, "credit", view, new String[] {"VIEW"})) {
                    check(t.next(), "getTables lists credit." + view + " as a VIEW");
                    String remarks = t.getString("REMARKS");
                    check(remarks != null && !remarks.isEmpty(), "credit." + view + " has a description");
                }
                System.out.println();
                System.out.println("credit." + view);
                int columns = 0;
                try (ResultSet c = md.getColumns(null, "credit", view, "%")) {
                    while (c.next()) {
                        columns++;
                        String name = c.getString("COLUMN_NAME");
                        int type = c.getInt("DATA_TYPE");
                        String typeName = c.getString("TYPE_NAME");
                        String remarks = c.getString("REMARKS");
                        System.out.printf("  %-20s %-10s %-12s %s%n", name, typeName, jdbcTypeName(type),
                            remarks == null ? "(no description)" : remarks);
                        check(!NOT_PLAIN.contains(type),
                            "credit." + view + "." + name + " has a plain JDBC type (got "
                                + jdbcTypeName(type) + " / " + typeName + ")");
                        check(remarks != null && !remarks.isEmpty(),
                            "credit." + view + "." + name + " has a description");
                    }
                }
                check(columns > 0, "getColumns finds the columns of credit." + view);

                // Every row and value, as a table view in the BI tool shows them.
                int rows = 0;
                try (Statement st = conn.createStatement();
                     ResultSet rs = st.executeQuery("SELECT * FROM credit." + view)) {
                    ResultSetMetaData rmd = rs.getMetaData();
                    check(rmd.getColumnCount() == columns,
                        "SELECT * FROM credit." + view + " has the columns getColumns listed");
                    for (int i = 1; i <= rmd.getColumnCount(); i++) {
                        check(!NOT_PLAIN.contains(rmd.getColumnType(i)),
                            "result column credit." + view + "." + rmd.getColumnName(i) + " is plain (got "
                                + jdbcTypeName(rmd.getColumnType(i)) + ")");
                    }
                    while (rs.next()) {
                        rows++;
                        for (int i = 1; i <= rmd.getColumnCount(); i++) {
                            Object v = rs.getObject(i);
                            if (v != null && !PLAIN_VALUES.contains(v.getClass())) {
                                check(false, "credit." + view + "." + rmd.getColumnName(i)
                                    + " arrives as a plain value (got " + v.getClass().getName() + ")");
                            }
                        }
                    }
                }
                System.out.println("  " + rows + " rows");
                check(rows > 0, "credit." + view + " has rows (run.sh loads a portfolio)");
            }

            // Dashboard questions, with bind parameters, each run often enough
            // that the driver switches to a named server-side statement.
            System.out.println();
            String table = null;
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery(
                     "SELECT table_name FROM credit.portfolio_summary GROUP BY table_name "
                         + "ORDER BY sum(loans) DESC, table_name LIMIT 1")) {
                check(rs.next(), "portfolio_summary names a table");
                table = rs.getString(1);
            }
            String[][] questions = {
                {"riskiest loans", "SELECT row_key, credit_score, segment, reasons FROM credit.current_scores "
                    + "WHERE table_name = ? ORDER BY credit_score, row_key LIMIT 50"},
                {"exposure by segment", "SELECT segment, loans, exposure, expected_loss, share_of_portfolio "
                    + "FROM credit.portfolio_summary WHERE table_name = ? ORDER BY segment"},
                {"newest alerts", "SELECT id, kind, row_key, score_drop, reason, age_hours FROM credit.open_alerts "
                    + "WHERE table_name = ? ORDER BY created_at DESC, id DESC LIMIT 50"},
                {"decisions per day", "SELECT day, approved, reviewed, declined, undecided, automation_rate "
                    + "FROM credit.decision_summary WHERE table_name = ? ORDER BY day"},
                {"migration", "SELECT month, from_segment, to_segment, loans FROM credit.segment_migration "
                    + "WHERE table_name = ? ORDER BY month, loans DESC"},
            };
            for (String[] q : questions) {
                try (PreparedStatement ps = conn.prepareStatement(q[1])) {
                    int rows = 0;
                    for (int run = 0; run < 7; run++) {
                        ps.setString(1, table);
                        rows = 0;
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                rows++;
                            }
                        }
                    }
                    System.out.printf("%-20s %4d rows for %s%n", q[0], rows, table);
                    check(rows > 0, "dashboard question '" + q[0] + "' has rows");
                }
            }

            // What the role must not do.
            System.out.println();
            String[] forbidden = {
                "SELECT count(*) FROM credit.score_history",
                "SELECT count(*) FROM credit.score_alerts",
                "SELECT count(*) FROM credit.scored_tables",
                "SELECT count(*) FROM public.loans",
                "SELECT count(*) FROM public.customers",
                "SELECT count(*) FROM public.applications",
                "SELECT credit.acknowledge_alert(1, 'from the BI tool')",
            };
            for (String sql : forbidden) {
                String state = null;
                try (Statement st = conn.createStatement()) {
                    st.executeQuery(sql).close();
                } catch (SQLException e) {
                    state = e.getSQLState();
                }
                System.out.printf("refused (%s): %s%n", state, sql);
                check("42501".equals(state), "the BI role is refused (42501) for: " + sql + " (got " + state + ")");
            }
        }

        System.out.println();
        if (failures.isEmpty()) {
            System.out.println("ViewsTest: all checks passed");
        } else {
            System.out.println("ViewsTest: " + failures.size() + " check(s) failed");
            System.exit(1);
        }
    }
}
