// SPDX-License-Identifier: GPL-2.0-only
/*
 * netlink.c - rtnetlink and device queries.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "fp.h"

struct neigh_reply {
	__u8 mac[6];
	bool found;
	__u16 state;
};

static int neigh_attr_cb(const struct nlattr *attr, void *data)
{
	struct neigh_reply *r = data;

	if (mnl_attr_get_type(attr) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(attr) == 6) {
		memcpy(r->mac, mnl_attr_get_payload(attr), 6);
		r->found = true;
	}
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neigh_reply *r = data;

	r->state = ndm->ndm_state;
	return mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, data);
}

/*
 * RTM_GETNEIGH for one address on one device (kernel >= 5.0, as "ip neigh
 * get"). Only a usable entry counts: an incomplete or failed one would
 * install a flow to the wrong or no MAC.
 */
int nl_neigh_lookup(__u32 ifindex, __u8 family, const __be32 addr[4],
		    __u8 mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct neigh_reply r = {};
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	unsigned int seq = time(NULL), portid;
	int ret;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	ret = mnl_cb_run(buf, ret, seq, portid, neigh_cb, &r);
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	if (!r.found || !(r.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY |
				     NUD_PROBE | NUD_PERMANENT | NUD_NOARP))) {
		ret = -ENOENT;
		goto out;
	}
	memcpy(mac, r.mac, 6);
	ret = 0;
out:
	mnl_socket_close(nl);
	return ret;
}

int link_info(const char *ifname, __u8 mac[6], __u32 *mtu)
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		ret = -EPFNOSUPPORT;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr)) {
		ret = -errno;
		goto out;
	}
	*mtu = ifr.ifr_mtu;
out:
	close(fd);
	return ret;
}
