// Command pstest serves Google's in-memory Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest)
// on a fixed address until it receives SIGINT or SIGTERM. Google ships the fake only as a
// library; this is the smallest main that makes it usable as a stand-alone emulator.
//
//	pstest -host 127.0.0.1 -port 8085
//
// Clients reach it through PUBSUB_EMULATOR_HOST=127.0.0.1:8085.
//
// The fake's own gRPC server keeps gRPC's default 4 MiB receive limit, so a publish of a
// message between 4 MiB and the service's 10 MB limit fails with RESOURCE_EXHAUSTED, which the
// real service accepts. This main therefore serves the fake's handlers (pstest.GServer) on its
// own gRPC server with a 20 MiB limit: size limits stay the adapter's to enforce, as against
// the real service.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
)

const maxMessageBytes = 20 << 20

func main() {
	host := flag.String("host", "127.0.0.1", "interface to listen on")
	port := flag.Int("port", 8085, "TCP port to listen on")
	flag.Parse()

	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pstest: cannot listen on %s: %v\n", addr, err)
		os.Exit(1)
	}

	// The fake starts its own server on an ephemeral loopback port; close that one at once (it
	// has no subscriptions yet, so nothing else is stopped) and keep its state and handlers.
	fake := pstest.NewServerWithAddress("127.0.0.1:0")
	_ = fake.Close()

	server := grpc.NewServer(grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes))
	pubsubpb.RegisterPublisherServer(server, &fake.GServer)
	pubsubpb.RegisterSubscriberServer(server, &fake.GServer)
	pubsubpb.RegisterSchemaServiceServer(server, &fake.GServer)

	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		sig := <-stop
		fmt.Printf("pstest: %v received, shutting down\n", sig)
		server.Stop()
	}()

	fmt.Printf("pstest: Pub/Sub fake listening on %s\n", listener.Addr())
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "pstest: %v\n", err)
		os.Exit(1)
	}
}
