// Command pstest serves Google's in-memory Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest)
// on a fixed address until it receives SIGINT or SIGTERM. Google ships the fake only as a
// library; this is the smallest main that makes it usable as a stand-alone emulator.
//
//	pstest -host 127.0.0.1 -port 8085
//
// Clients reach it through PUBSUB_EMULATOR_HOST=127.0.0.1:8085.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"cloud.google.com/go/pubsub/v2/pstest"
)

func main() {
	host := flag.String("host", "127.0.0.1", "interface to listen on")
	port := flag.Int("port", 8085, "TCP port to listen on")
	flag.Parse()

	addr := net.JoinHostPort(*host, strconv.Itoa(*port))
	srv, err := start(addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pstest: cannot listen on %s: %v\n", addr, err)
		os.Exit(1)
	}
	fmt.Printf("pstest: Pub/Sub fake listening on %s\n", srv.Addr)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	sig := <-stop
	fmt.Printf("pstest: %v received, shutting down\n", sig)
	_ = srv.Close()
}

// start turns the library's panic on a failed listen (e.g. address already in use) into an error.
func start(addr string) (srv *pstest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return pstest.NewServerWithAddress(addr), nil
}
