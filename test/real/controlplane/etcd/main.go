// Command etcd runs a single-member etcd for the apiserver tests through etcd's embed package,
// so the repository needs no etcd release binary: `go build` compiles it from the module proxy.
//
// It listens on loopback only. With port 0 in a URL the kernel picks a free port, and the chosen
// client URL is printed as one line, "client-url <url>", once etcd is ready; the test helper
// reads it, so no port is guessed in advance and none can be raced for.
//
// SIGUSR1 compacts the keyspace up to the current revision and prints "compacted <revision>":
// the tests use it to make a watch's resourceVersion too old (410 Gone) on demand.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/storage/mvcc"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func main() {
	dataDir := flag.String("data-dir", "", "directory for etcd's data (required)")
	clientURL := flag.String("listen-client-url", "http://127.0.0.1:0", "URL to serve clients on")
	peerURL := flag.String("listen-peer-url", "http://127.0.0.1:0", "URL to serve peers on (unused, but etcd needs one)")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("--data-dir is required")
	}

	cfg := embed.NewConfig()
	cfg.Name = "sandbox"
	cfg.Dir = *dataDir
	cfg.LogLevel = "error"
	client := mustURL(*clientURL)
	peer := mustURL(*peerURL)
	cfg.ListenClientUrls = []url.URL{client}
	cfg.AdvertiseClientUrls = []url.URL{client}
	cfg.ListenPeerUrls = []url.URL{peer}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	// Tests write little; a small backend quota and no snapshots keep the data dir tiny.
	cfg.QuotaBackendBytes = 512 * 1024 * 1024

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatalf("start etcd: %v", err)
	}
	defer e.Close()

	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		log.Fatal("etcd did not become ready within 60s")
	}
	// The listener knows the port the kernel chose; the configured URL may say 0.
	fmt.Printf("client-url http://%s\n", e.Clients[0].Addr().String())

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	for {
		select {
		case err := <-e.Err():
			log.Fatalf("etcd: %v", err)
		case sig := <-signals:
			if sig != syscall.SIGUSR1 {
				return
			}
			compact(e)
		}
	}
}

// compact removes every revision older than the current one, as the API server's periodic
// compaction would, only now instead of every five minutes.
func compact(e *embed.Etcd) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rev := e.Server.KV().Rev()
	_, err := e.Server.Compact(ctx, &pb.CompactionRequest{Revision: rev, Physical: true})
	if err != nil && !errors.Is(err, mvcc.ErrCompacted) {
		fmt.Printf("compact-failed %v\n", err)
		return
	}
	fmt.Printf("compacted %d\n", rev)
}

func mustURL(raw string) url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatalf("bad URL %q: %v", raw, err)
	}
	return *u
}
