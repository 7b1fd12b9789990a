// SPDX-License-Identifier: GPL-2.0-only
/*
 * ethtool.c - device queries through ioctl: MAC and MTU, and the ethtool
 * features that hide VLAN tags from XDP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>

#include "lib/ethtool.h"

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

/*
 * Turns off the features that keep a received VLAN tag out of the frame's
 * bytes, where XDP could not see it (bpf/l2.h): "rx-vlan-hw-parse" (which
 * ethtool calls rx-vlan-offload, rxvlan) and "rx-vlan-stag-hw-parse".
 * Writes the names it turned off into @done
 * ("" if none); features a device lacks or cannot change are left alone.
 * Uses the ethtool ioctl, which needs no netlink family lookup.
 */
static const char *const vlan_features[2] = { "rx-vlan-hw-parse", "rx-vlan-stag-hw-parse" };

static int ethtool(int fd, struct ifreq *ifr, void *cmd)
{
	ifr->ifr_data = cmd;
	/* SFEATURES may return ETHTOOL_F_* flags: only < 0 is an error. */
	return ioctl(fd, SIOCETHTOOL, ifr) < 0 ? -errno : 0;
}

/* The feature-bit index of each of vlan_features (-1 if the device has
 * none by that name), and how many feature bits it has.
 */
static int feature_index(int fd, struct ifreq *ifr, int idx[2], __u32 *count)
{
	struct ethtool_sset_info *sset;
	struct ethtool_gstrings *strs = NULL;
	int ret;

	sset = calloc(1, sizeof(*sset) + sizeof(__u32));
	if (!sset)
		return -ENOMEM;
	sset->cmd = ETHTOOL_GSSET_INFO;
	sset->sset_mask = 1ULL << ETH_SS_FEATURES;
	ret = ethtool(fd, ifr, sset);
	if (!ret && !sset->sset_mask)
		ret = -EOPNOTSUPP;
	if (ret)
		goto out;
	*count = sset->data[0];
	strs = calloc(1, sizeof(*strs) + *count * ETH_GSTRING_LEN);
	if (!strs) {
		ret = -ENOMEM;
		goto out;
	}
	strs->cmd = ETHTOOL_GSTRINGS;
	strs->string_set = ETH_SS_FEATURES;
	strs->len = *count;
	ret = ethtool(fd, ifr, strs);
	if (ret)
		goto out;
	for (__u32 i = 0; i < *count; i++)
		for (int n = 0; n < 2; n++)
			if (!strncmp((char *)strs->data + i * ETH_GSTRING_LEN, vlan_features[n],
				     ETH_GSTRING_LEN))
				idx[n] = i;
out:
	free(sset);
	free(strs);
	return ret;
}

/* The bit indexes of vlan_features[] in @idx, and the device's features read
 * into *@gf (@blocks of them; the caller frees it).
 */
static int read_vlan_features(int fd, struct ifreq *ifr, int idx[2],
			      struct ethtool_gfeatures **gf, __u32 *blocks)
{
	__u32 count;
	int ret;

	idx[0] = idx[1] = -1;
	*gf = NULL;
	ret = feature_index(fd, ifr, idx, &count);
	if (ret)
		return ret;
	*blocks = (count + 31) / 32;
	*gf = calloc(1, sizeof(**gf) + *blocks * sizeof((*gf)->features[0]));
	if (!*gf)
		return -ENOMEM;
	(*gf)->cmd = ETHTOOL_GFEATURES;
	(*gf)->size = *blocks;
	return ethtool(fd, ifr, *gf);
}

/* Requests the features at @idx off where they are on and changeable. */
static void request_off(const struct ethtool_gfeatures *gf, struct ethtool_sfeatures *sf,
			__u32 blocks, const int idx[2])
{
	for (int n = 0; n < 2; n++) {
		__u32 b, bit;

		if (idx[n] < 0)
			continue;
		b = idx[n] / 32;
		bit = 1U << (idx[n] % 32);
		if (!(gf->features[b].active & bit) || !(gf->features[b].available & bit))
			continue;
		sf->features[b].valid |= bit;
		sf->features[b].requested = gf->features[b].requested & ~bit;
	}
	for (__u32 b = 0; b < blocks; b++)
		sf->features[b].requested &= sf->features[b].valid;
}

/* What is off now (a driver may refuse one, or have it fixed on): names
 * into @done, and -EBUSY while any is still on.
 */
static int report_off(const struct ethtool_gfeatures *gf, const struct ethtool_sfeatures *sf,
		      const int idx[2], char *done, size_t len)
{
	int ret = 0;

	for (int n = 0; n < 2; n++) {
		__u32 b, bit;

		if (idx[n] < 0)
			continue;
		b = idx[n] / 32;
		bit = 1U << (idx[n] % 32);
		if (gf->features[b].active & bit) {
			/* refused, or fixed on: never requested */
			ret = -EBUSY;
			continue;
		}
		if (!(sf->features[b].valid & bit))
			continue;
		snprintf(done + strlen(done), len - strlen(done), "%s%s",
			 done[0] ? ", " : "", vlan_features[n]);
	}
	return ret;
}

/*
 * Turns off the features that keep a received VLAN tag out of the frame's
 * bytes, where XDP could not see it (bpf/l2.h): "rx-vlan-hw-parse" (which
 * ethtool calls rx-vlan-offload, rxvlan) and "rx-vlan-stag-hw-parse".
 * Writes the names it turned off into @done
 * ("" if none); features a device lacks or cannot change are left alone.
 * Uses the ethtool ioctl, which needs no netlink family lookup.
 */
int dev_rx_vlan_offload_off(const char *ifname, char *done, size_t len)
{
	struct ethtool_gfeatures *gf = NULL;
	struct ethtool_sfeatures *sf = NULL;
	int idx[2], fd, ret;
	struct ifreq ifr = {};
	__u32 blocks;

	done[0] = '\0';
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	ret = read_vlan_features(fd, &ifr, idx, &gf, &blocks);
	if (ret)
		goto out;
	sf = calloc(1, sizeof(*sf) + blocks * sizeof(sf->features[0]));
	if (!sf) {
		ret = -ENOMEM;
		goto out;
	}
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	request_off(gf, sf, blocks, idx);
	ret = ethtool(fd, &ifr, sf);
	if (!ret)
		ret = ethtool(fd, &ifr, gf);
	if (!ret)
		ret = report_off(gf, sf, idx, done, len);
out:
	free(gf);
	free(sf);
	close(fd);
	return ret;
}

/*
 * 1 when a received VLAN tag may be kept out of @ifname's frame bytes now
 * (rx-vlan-hw-parse or rx-vlan-stag-hw-parse on: fixed by the driver, or
 * turned back on after attach), 0 when not, -errno when unknown. XDP
 * cannot see such a tag; TC reads it from the skb.
 */
int dev_rx_vlan_active(const char *ifname)
{
	struct ethtool_gfeatures *gf = NULL;
	int idx[2], fd, ret;
	struct ifreq ifr = {};
	__u32 blocks;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	ret = read_vlan_features(fd, &ifr, idx, &gf, &blocks);
	for (int n = 0; !ret && n < 2; n++)
		if (idx[n] >= 0 && gf->features[idx[n] / 32].active & (1U << (idx[n] % 32)))
			ret = 1;
	free(gf);
	close(fd);
	return ret;
}
