/* The kiosk page: the files of kiosk/, compiled into sipasd by kiosk/embed
 * (page-assets.c, generated), served under /kiosk/ to enrolled kiosks. */
#ifndef SIPASD_PAGE_H
#define SIPASD_PAGE_H

#include <stddef.h>

struct request;

struct page_asset {
	const char *name;		/* under /kiosk/, e.g. "kiosk.js" */
	const char *etag;		/* quoted, of its content */
	const unsigned char *data;
	size_t len;
};

/* The generated table (page-assets.c), in kiosk/'s order. */
extern const struct page_asset page_assets[];
extern const size_t page_nassets;

/* GET and HEAD of /kiosk and everything under /kiosk/. */
void page_serve(struct request *req);

#endif
