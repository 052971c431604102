// goclient: Go's net/http client as the tests' load: keep-alive goroutines on one
// Transport (its own retry rules, nothing added), goroutines that open a new
// connection per request, and goroutines that pipeline batches of requests on raw
// connections. Runs for -duration, then prints one line of totals (with the slowest
// new-connection request) and, with -numbers, every visitor number a 200 carried.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var visitorRe = regexp.MustCompile(`You are visitor number (\d+)`)

type totals struct {
	ok, other, failed atomic.Int64
	freshMaxNs        atomic.Int64
	start             time.Time
	mu                sync.Mutex
	numbers           []string
	errors            map[string]int
}

func (t *totals) fail(err error) {
	t.mu.Lock()
	t.errors[err.Error()]++
	t.mu.Unlock()
	t.failed.Add(1)
}

func (t *totals) answered(status int, body []byte, keepNumbers bool) {
	if status != 200 {
		t.other.Add(1)
		t.mu.Lock()
		t.errors[fmt.Sprintf("status %d at %.1fs", status, time.Since(t.start).Seconds())]++
		t.mu.Unlock()
		return
	}
	t.ok.Add(1)
	if keepNumbers {
		if m := visitorRe.FindSubmatch(body); m != nil {
			t.mu.Lock()
			t.numbers = append(t.numbers, string(m[1]))
			t.mu.Unlock()
		}
	}
}

// pipeline sends batches of GETs in one write on a connection and reads the answers.
// What a server leaves unanswered when it closes after a "Connection: close" answer
// (or closes a reused connection before answering anything, as between requests) is
// sent again on a new connection, as RFC 9112 section 9.3.2 lets a client; any other
// error fails the requests it cut.
func (t *totals) pipeline(target string, batch int, keepNumbers bool, stop <-chan struct{}) {
	u, _ := url.Parse(target)
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n"
	var conn net.Conn
	var r *bufio.Reader
	reused := false
	for {
		select {
		case <-stop:
			if conn != nil {
				conn.Close()
			}
			return
		default:
		}
		if conn == nil {
			c, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
			if err != nil {
				t.fail(err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn, r, reused = c, bufio.NewReader(c), false
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte(strings.Repeat(req, batch))); err != nil {
			if !reused {
				t.fail(err)
			}
			conn.Close()
			conn = nil
			continue
		}
		got, closed := 0, false
		for got < batch && !closed {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				if got > 0 || !reused {
					t.fail(fmt.Errorf("pipelined read: %w", err))
				}
				closed = true
				break
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.fail(err)
				closed = true
				break
			}
			t.answered(resp.StatusCode, body, keepNumbers)
			got++
			closed = resp.Close
		}
		reused = true
		if closed {
			conn.Close()
			conn = nil
		}
	}
}

func (t *totals) get(c *http.Client, url string, keepNumbers bool) {
	resp, err := c.Get(url)
	if err != nil {
		t.fail(err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.fail(err)
		return
	}
	t.answered(resp.StatusCode, body, keepNumbers)
}

func main() {
	url := flag.String("url", "", "the URL to GET")
	keepAlive := flag.Int("c", 8, "keep-alive goroutines")
	fresh := flag.Int("fresh", 0, "goroutines that open a new connection per request")
	duration := flag.Duration("duration", 5*time.Second, "how long to run")
	pipelining := flag.Int("pipeline", 0, "goroutines that pipeline batches of 8 requests")
	numbers := flag.Bool("numbers", false, "print every visitor number a 200 carried")
	flag.Parse()

	t := &totals{errors: map[string]int{}, start: time.Now()}
	stop := make(chan struct{})
	time.AfterFunc(*duration, func() { close(stop) })

	shared := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *keepAlive}, Timeout: 10 * time.Second}
	freshClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	run := func(c *http.Client) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				start := time.Now()
				t.get(c, *url, *numbers)
				for took := time.Since(start).Nanoseconds(); c == freshClient; {
					if was := t.freshMaxNs.Load(); took <= was || t.freshMaxNs.CompareAndSwap(was, took) {
						break
					}
				}
			}
		}
	}
	for i := 0; i < *keepAlive; i++ {
		wg.Add(1)
		go run(shared)
	}
	for i := 0; i < *fresh; i++ {
		wg.Add(1)
		go run(freshClient)
	}
	for i := 0; i < *pipelining; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.pipeline(*url, 8, *numbers, stop)
		}()
	}
	wg.Wait()

	fmt.Printf("ok=%d other=%d failed=%d fresh_max_ms=%.1f\n", t.ok.Load(), t.other.Load(), t.failed.Load(),
		float64(t.freshMaxNs.Load())/1e6)
	keys := make([]string, 0, len(t.errors))
	for k := range t.errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("error %dx: %s\n", t.errors[k], k)
	}
	if *numbers {
		for _, n := range t.numbers {
			fmt.Println(n)
		}
	}
}
