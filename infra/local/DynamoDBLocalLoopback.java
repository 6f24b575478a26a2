// DynamoDBLocalLoopback starts DynamoDB Local bound to 127.0.0.1 only.
//
// DynamoDB Local has no bind-address option and always listens on 0.0.0.0, but Gatehouse's
// rule is that every local server listens on loopback only. This launcher builds the server
// from the usual command-line arguments, points its Jetty connectors at 127.0.0.1 before they
// open, starts it and prints the real port, so "-port 0" yields a free port with no race.
//
// Run it as a single-file source program (Java 11+); the jar's manifest Class-Path brings in
// DynamoDBLocal_lib:
//
//   java -Djava.library.path=<DynamoDBLocal_lib> -cp <DynamoDBLocal.jar> \
//       infra/local/DynamoDBLocalLoopback.java -sharedDb -port 0 -disableTelemetry -inMemory
//
// The Go launcher (infra/local/emulators) waits for the line "DynamoDBLocalLoopback listening
// on 127.0.0.1:<port>" on stdout.

import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        // DynamoDB Local's own parser rejects "-port 0", so ask it for a placeholder port and
        // set the real one on the connectors below.
        int port = requestedPort(args);
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(withPort(args, port == 0 ? 8000 : port));
        if (proxy == null) {
            // ServerRunner has already printed the reason (bad arguments or -help).
            System.exit(2);
        }

        // The Jetty server is private and there is no API to reach it; reflection is the only
        // way to set the bind host before the connectors open.
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);

        for (Connector c : server.getConnectors()) {
            if (!(c instanceof ServerConnector)) {
                throw new IllegalStateException("unexpected connector type " + c.getClass().getName());
            }
            ServerConnector sc = (ServerConnector) c;
            sc.setHost("127.0.0.1");
            sc.setPort(port);
        }

        proxy.start();

        int bound = -1;
        for (Connector c : server.getConnectors()) {
            bound = ((ServerConnector) c).getLocalPort();
        }
        System.out.println("DynamoDBLocalLoopback listening on 127.0.0.1:" + bound);
        System.out.flush();

        proxy.join();
    }

    // requestedPort returns the value of "-port", or DynamoDB Local's default 8000.
    private static int requestedPort(String[] args) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-port")) {
                try {
                    return Integer.parseInt(args[i + 1]);
                } catch (NumberFormatException e) {
                    return -1; // let DynamoDB Local's parser report it
                }
            }
        }
        return 8000;
    }

    // withPort returns a copy of args whose "-port" value is port.
    private static String[] withPort(String[] args, int port) {
        String[] out = args.clone();
        for (int i = 0; i + 1 < out.length; i++) {
            if (out[i].equals("-port")) {
                out[i + 1] = Integer.toString(port);
            }
        }
        return out;
    }
}
